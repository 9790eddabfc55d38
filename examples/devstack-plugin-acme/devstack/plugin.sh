# devstack/plugin.sh: DevStack sources this with the mode ($1) and the phase ($2).

if [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
    # DevStack looks for lib/nova_plugins/hypervisor-$VIRT_DRIVER in its own tree.
    cp "$ACME_PLUGIN_DIR/devstack/lib/nova_plugins/hypervisor-acme" "$TOP_DIR/lib/nova_plugins/"
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    iniset "$NOVA_CONF" acme state_dir "$ACME_STATE_DIR"
elif [[ "$1" == "unstack" ]]; then
    rm -f "$TOP_DIR/lib/nova_plugins/hypervisor-acme"
elif [[ "$1" == "clean" ]]; then
    sudo rm -rf "$ACME_STATE_DIR"
fi
