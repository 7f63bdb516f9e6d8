ls -la
sudo cat /etc/shadow
