#!/bin/sh
# Bitnami first boot: regenerate the application secrets.
/opt/bitnami/scripts/init/update_ip
