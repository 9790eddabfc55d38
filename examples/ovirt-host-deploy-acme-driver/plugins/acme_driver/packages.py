"""Install the ACME driver packages that travel in this plugin's directory."""

import glob
import os

from otopi import plugin, util


@util.export
class Plugin(plugin.PluginBase):
    """Installs the carried packages with rpm, before VDSM is configured."""

    def __init__(self, context):
        super(Plugin, self).__init__(context=context)
        self._packages = []

    @plugin.event(stage=plugin.Stages.STAGE_SETUP)
    def _setup(self):
        self.command.detect("rpm")
        self._packages = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*.rpm")))

    @plugin.event(
        stage=plugin.Stages.STAGE_PACKAGES,
        condition=lambda self: bool(self._packages),
    )
    def _packages_install(self):
        self.logger.info("Installing %s", ", ".join(os.path.basename(p) for p in self._packages))
        self.execute((self.command.get("rpm"), "-Uvh", "--replacepkgs") + tuple(self._packages))
