"""ConVirt: manage Xen virtual machines."""

VERSION = "0.9.0"
