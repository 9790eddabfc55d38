#!/bin/sh
# Provision a Fedora guest from this image.
set -e
echo "provisioning fedora_vm into $1"
