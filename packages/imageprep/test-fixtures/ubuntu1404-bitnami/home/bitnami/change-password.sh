#!/bin/sh
# Forces the bitnami user to change the default password at first login.
passwd bitnami
