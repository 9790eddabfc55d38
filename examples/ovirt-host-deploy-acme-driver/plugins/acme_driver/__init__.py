"""ACME driver deployment: otopi calls createPlugins() for every plugin directory it loads."""

from otopi import util

from . import packages


@util.export
def createPlugins(context):
    packages.Plugin(context=context)
