"""``gateway dev``: an embedded broker on loopback, the topics created, then serve."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from importlib import resources
from pathlib import Path
from types import FrameType

from gateway.broker import EmbeddedBroker
from gateway.commands import Command
from gateway.commands.serve import serve
from gateway.config import Config, ConfigError, load_config, parse_config
from gateway.topics import ensure_topics

__all__ = ["COMMAND", "bundled_dev_config"]


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file (default: the bundled dev config)")


def bundled_dev_config() -> Config:
    """The dev configuration shipped in the package: every vendor, dev-only secrets."""
    text = resources.files("gateway").joinpath("dev.toml").read_bytes()
    return parse_config(text, "bundled dev.toml", os.environ)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace) -> int:
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit here
    # lets the `with` below stop the embedded broker instead of leaving it running.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    config = load_config(args.config) if args.config else bundled_dev_config()
    host, _, port = config.kafka.bootstrap_servers.rpartition(":")
    if not port.isdigit():
        raise ConfigError("kafka.bootstrap_servers", "dev mode needs one host:port on loopback")
    with EmbeddedBroker(host, int(port)) as broker:
        asyncio.run(ensure_topics(broker.bootstrap_servers, config.topics))
        _print_banner(config, show_secrets=args.config is None)
        return serve(config)


def _print_banner(config: Config, show_secrets: bool) -> None:
    base = f"http://{config.server.host}:{config.server.port}"
    topics = config.topics
    lines = [f"embedded broker on {config.kafka.bootstrap_servers}; topics: "
             f"{topics.canonical}, {topics.raw}, {topics.dead_letter}", "webhook URLs:"]
    for source in config.sources:
        url = f"{base}/webhooks/{source.provider}" + ("" if source.id == source.provider else f"/{source.id}")
        secret = ""
        if show_secrets and source.auth != "none":
            secret = f"  ({source.auth}, dev secret {source.secret_values(os.environ)[0]!r})"
        lines.append(f"  {source.provider:<14} {url}{secret}")
    lines.append(f"watch events: gateway tail --bootstrap {config.kafka.bootstrap_servers}")
    print("\n".join(lines), file=sys.stderr, flush=True)


COMMAND = Command("dev", "start an embedded broker, create the topics and serve", _configure, _run)
