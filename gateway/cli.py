"""The ``gateway`` command: serve against Kafka, or dev mode with an embedded broker."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import uvicorn

from gateway.app import create_app
from gateway.broker import BrokerError, EmbeddedBroker
from gateway.config import Config, ConfigError, load_config, parse_config
from gateway.logging import configure_logging
from gateway.topics import ensure_topics

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_BROKER = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="Booking webhook gateway.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve webhooks, publishing to the configured Kafka")
    serve.add_argument("--config", required=True, type=Path, help="TOML configuration file")
    dev = commands.add_parser("dev", help="start an embedded broker, create the topics and serve")
    dev.add_argument("--config", type=Path, help="TOML configuration file (default: the bundled dev config)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(load_config(args.config))
        return _dev(args.config)
    except ConfigError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokerError as exc:
        print(f"gateway: broker error: {exc}", file=sys.stderr)
        return EXIT_BROKER


def _serve(config: Config) -> int:
    configure_logging(config.log.level)
    uvicorn.run(
        create_app(config),
        host=config.server.host,
        port=config.server.port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
    return EXIT_OK


def _bundled_dev_config() -> Config:
    text = resources.files("gateway").joinpath("dev.toml").read_bytes()
    return parse_config(text, "bundled dev.toml", os.environ)


def _dev(path: Path | None) -> int:
    config = load_config(path) if path else _bundled_dev_config()
    host, _, port = config.kafka.bootstrap_servers.rpartition(":")
    if not port.isdigit():
        raise ConfigError("kafka.bootstrap_servers", "dev mode needs one host:port on loopback")
    with EmbeddedBroker(host, int(port)) as broker:
        asyncio.run(ensure_topics(broker.bootstrap_servers, config.topics))
        _print_dev_banner(config, path is None)
        return _serve(config)


def _print_dev_banner(config: Config, bundled: bool) -> None:
    base = f"http://{config.server.host}:{config.server.port}"
    lines = [f"embedded broker on {config.kafka.bootstrap_servers}; topics: "
             f"{config.topics.canonical}, {config.topics.raw}, {config.topics.dead_letter}"]
    for source in config.sources:
        url = f"{base}/webhooks/{source.provider}/{source.id}"
        secret = f"  {source.auth} secret: {source.secret_values(os.environ)[0]}" if bundled and source.auth != "none" else ""
        lines.append(f"  {source.provider:<14} {url}{secret}")
    print("\n".join(lines), file=sys.stderr, flush=True)
