"""Helper of the ACME hooks: not a hook itself, so not executable."""

VENDOR = "ACME"


def tag_domain_xml(path):
    with open(path, encoding="utf-8") as fh:
        xml = fh.read()
    if "<sysinfo" not in xml:
        xml = xml.replace("</domain>", f"<sysinfo type='smbios'><system><entry name='manufacturer'>{VENDOR}</entry></system></sysinfo></domain>")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(xml)
