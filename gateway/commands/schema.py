"""``gateway schema``: print the JSON Schema of the canonical event, or an AsyncAPI document of the topics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.commands import EXIT_OK, EXIT_USAGE, Command
from gateway.commands._console import say
from gateway.config import Config, load_config
from gateway.kafka.asyncapi import render_asyncapi
from gateway.ops import log_schema
from schemas.jsonschema import render

__all__ = ["COMMAND"]

_EPILOG = """\
Without --asyncapi: the JSON Schema (2020-12) of one canonical CloudEvent, the same
bytes as schemas/canonical-event.schema.json. With --asyncapi: an AsyncAPI 3.1.0
document (JSON) of the canonical, raw and dead-letter topics; topic names and the
broker come from --config, else the defaults. With --log-lines: the JSON Schema of
the lines the gateway writes on stdout, the same bytes as schemas/log-lines.schema.json.

exit status: 0; 2 usage; 3 configuration error.
"""


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    parser.add_argument("--asyncapi", action="store_true", help="print the AsyncAPI 3.1.0 document of the topics")
    parser.add_argument("--log-lines", action="store_true", help="print the JSON Schema of the gateway's log lines")
    parser.add_argument("--config", type=Path, help="TOML configuration file naming the topics (with --asyncapi)")


def _run(args: argparse.Namespace) -> int:
    if args.config and not args.asyncapi:
        say("schema", "--config names topics, which only the AsyncAPI document shows: add --asyncapi")
        return EXIT_USAGE
    if args.log_lines and args.asyncapi:
        say("schema", "--log-lines and --asyncapi each print a document of their own: give one")
        return EXIT_USAGE
    if args.log_lines:
        sys.stdout.buffer.write(log_schema.render())
    elif args.asyncapi:
        config = load_config(args.config) if args.config else Config()
        sys.stdout.buffer.write(render_asyncapi(config))
    else:
        sys.stdout.buffer.write(render())
    sys.stdout.buffer.flush()
    return EXIT_OK


COMMAND = Command("schema", "print the canonical event's JSON Schema, or an AsyncAPI document of the topics",
                  _configure, _run)
