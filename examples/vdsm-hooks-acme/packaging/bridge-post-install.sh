echo "vdsm-hook-acme-bridge: restart vdsmd to use the ACME bridge"
