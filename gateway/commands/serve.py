"""``gateway serve``: serve webhooks against the Kafka the configuration names."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from gateway.app import create_app
from gateway.commands import EXIT_OK, Command
from gateway.config import Config, load_config
from gateway.logging import configure_logging

__all__ = ["COMMAND", "serve"]


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, help="TOML configuration file")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def serve(config: Config) -> int:
    """Serve until SIGTERM or SIGINT: stop accepting, finish in-flight requests, flush, close."""
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


def _run(args: argparse.Namespace) -> int:
    return serve(load_config(args.config))


COMMAND = Command("serve", "serve webhooks, publishing to the configured Kafka", _configure, _run)
