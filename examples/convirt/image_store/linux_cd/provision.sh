#!/bin/sh
# Provision a guest that boots from a Linux CD image.
set -e
echo "provisioning linux_cd into $1"
