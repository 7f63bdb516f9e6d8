sudo /opt/bitnami/ctlscript.sh restart
