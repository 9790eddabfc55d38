"""A map with a main package and two sub-packages, written into a directory for the tests to build."""

from __future__ import annotations

from pathlib import Path

MAP = """\
schema = 1

[package]
name = "acme-hooks"
version = "1.2"
release = "3"
summary = "Hook dispatcher of the acme host agent"
description = "Runs the hooks of the acme host agent in order."
license = "GPL-2.0-or-later"
maintainer = "Jane Packager <jane@example.org>"
url = "https://example.org/acme"
arch = "noarch"

[[file]]
src = "src/acme-run"
dst = "{libexecdir}/acme/acme-run"
mode = "0755"

[[file]]
src = "src/acme.conf"
dst = "{sysconfdir}/acme/acme.conf"
config = "noreplace"

[[subpackage]]
name = "-helper"
summary = "Helper shared by the acme hooks"
description = "A small helper script the acme hooks call."
arch = "noarch"

[[subpackage]]
name = "acme-hooks-net"
summary = "Network hook for the acme host agent"
description = "Sets up the network of a guest before it starts."

[subpackage.requires]
acme-hooks = "= {version}-{release}"
acme-hooks-helper = ""

[subpackage.replaces]
acme-net-hook = "< {version}"

[subpackage.scripts]
post-install = "src/net-post.sh"

[[file]]
src = "src/acme-helper"
dst = "{libexecdir}/acme/helpers/acme-helper"
mode = "0755"
package = "-helper"

[[file]]
src = "src/50_net"
dst = "{libexecdir}/acme/hooks/before_start/50_net"
mode = "0755"
package = "acme-hooks-net"

[[symlink]]
path = "{libexecdir}/acme/hooks/before_start/10_helper"
target = "../../helpers/acme-helper"
package = "acme-hooks-net"
"""

SOURCES = {
    "src/acme-run": '#!/bin/sh\nfor h in /usr/libexec/acme/hooks/*/*; do "$h"; done\n',
    "src/acme.conf": "# acme\nverbose = 0\n",
    "src/acme-helper": '#!/bin/sh\necho helper "$@"\n',
    "src/50_net": "#!/bin/sh\nexec /usr/libexec/acme/helpers/acme-helper net\n",
    "src/net-post.sh": "echo net hook installed\n",
}


def write_project(root: Path, text: str = MAP) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pkgtool.toml").write_text(text)
    for rel, body in SOURCES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
        p.chmod(0o755 if body.startswith("#!") else 0o644)
    return root
