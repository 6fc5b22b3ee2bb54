"""The bounds every adapter keeps to on what a sender controls: module-level, set once from the configuration."""

from __future__ import annotations

import msgspec

from adapters._repair import DEFAULT_LISTED_REPAIRS, DEFAULT_MAX_REPAIRS

__all__ = ["RepairLimits", "repair_limits", "set_repair_limits"]


class RepairLimits(msgspec.Struct, frozen=True, kw_only=True):
    """How much JSON repair one body may cost, and how much of it the records describe.

    ``max_repairs``: past it the body is refused as ``malformed-json``.
    ``listed_repairs``: repairs described in ``data.repairs``; the rest are counted in one line.
    """

    max_repairs: int = DEFAULT_MAX_REPAIRS
    listed_repairs: int = DEFAULT_LISTED_REPAIRS


_current = [RepairLimits()]


def repair_limits() -> RepairLimits:
    """The limits adapters apply now (the defaults until ``set_repair_limits``)."""
    return _current[0]


def set_repair_limits(limits: RepairLimits) -> None:
    """Apply ``limits`` to every adapter of this process: called at start, before any request is mapped."""
    _current[0] = limits
