cd /srv
