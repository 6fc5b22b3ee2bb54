"""The ``gateway`` subcommands, one module each exporting ``COMMAND`` (a Command: name, help, arguments, run)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["EXIT_BROKER", "EXIT_CONFIG", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "Command"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_BROKER = 4


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: its name, one line of help, its arguments and what it does."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
