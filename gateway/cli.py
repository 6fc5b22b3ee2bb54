"""The ``gateway`` command line: one subcommand per module in ``gateway.commands``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import structlog

from gateway.commands import (
    EXIT_BROKER,
    EXIT_CONFIG,
    Command,
    check,
    dev,
    quarantine,
    replay,
    schema,
    serve,
    sign,
    tail,
)
from gateway.config import ConfigError
from gateway.kafka.broker import BrokerError
from gateway.ops.logging import configure_logging

__all__ = ["COMMANDS", "main"]

_SERVERS = (serve.COMMAND.name, dev.COMMAND.name)
"""Commands whose stdout is the log: a configuration error is a line there too (level error)."""

COMMANDS: tuple[Command, ...] = (
    serve.COMMAND, dev.COMMAND, sign.COMMAND, check.COMMAND, replay.COMMAND, tail.COMMAND, schema.COMMAND,
    quarantine.COMMAND,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="Booking webhook gateway.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ConfigError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        if args.command in _SERVERS:
            configure_logging()
            structlog.get_logger("gateway.cli").error("configuration error", error=str(exc))
        return EXIT_CONFIG
    except BrokerError as exc:
        print(f"gateway: broker error: {exc}", file=sys.stderr)
        return EXIT_BROKER
    except KeyboardInterrupt:
        return 130
    return code
