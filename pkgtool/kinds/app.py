"""The app kind: an application, with no host software and no rules of its own."""

from __future__ import annotations

from .base import Kind

NAME = "app"

KIND = Kind(NAME, summary="An application packaged with pkgtool", scaffold="init/app")
