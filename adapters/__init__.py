"""The registry of vendor adapters, built from an explicit list of modules."""

from __future__ import annotations

from types import MappingProxyType

from adapters import appointlet, calcom, calendly, canonical, oncehub, picktime, schedulingkit, square, timekit, zoom
from adapters.base import Adapter

__all__ = ["ADAPTERS"]

_MODULES = (picktime, timekit, oncehub, schedulingkit, appointlet, square, zoom, canonical, calendly, calcom)


def _register() -> MappingProxyType[str, Adapter]:
    registry: dict[str, Adapter] = {}
    for module in _MODULES:
        adapter: Adapter = module.ADAPTER
        if adapter.name in registry:
            raise RuntimeError(f"two adapters are named {adapter.name!r}")
        registry[adapter.name] = adapter
    return MappingProxyType(registry)


ADAPTERS = _register()

