# libvirtd reads hooks at start: reload it so that the new hook is seen.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet libvirtd 2>/dev/null; then
    systemctl reload-or-restart libvirtd || true
fi
