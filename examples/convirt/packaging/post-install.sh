# Runs after the first installation: make the appliance store writable for the console user.
mkdir -p /var/cache/convirt/appliance_store
