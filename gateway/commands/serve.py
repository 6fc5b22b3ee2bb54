"""``gateway serve``: serve webhooks against the Kafka the configuration names."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import uvicorn

from gateway.commands import EXIT_OK, EXIT_USAGE, Command
from gateway.config import Config, load_config
from gateway.http.app import CONFIG_ENV, WORKERS_ENV, create_app
from gateway.http.protocol import edge_protocol
from gateway.ops.logging import configure_logging
from gateway.ops.metrics import MULTIPROCESS_DIR_ENV

__all__ = ["COMMAND", "serve"]

_GRACEFUL_SHUTDOWN_S = 10
# The gateway logs its own request lines and never reads the client address, so no
# access log and no X-Forwarded-* rewriting; it serves no websockets.
_SERVER_SETTINGS: dict[str, Any] = {
    "access_log": False,
    "log_level": "warning",
    "proxy_headers": False,
    "server_header": False,
    "ws": "none",
    "timeout_graceful_shutdown": _GRACEFUL_SHUTDOWN_S,
}


def _uvicorn_settings(config: Config) -> dict[str, Any]:
    """uvicorn's settings: the edge's protocol (limits, timeouts, one write per response) and keep-alive timeout."""
    server = config.server
    return {**_SERVER_SETTINGS, "http": edge_protocol(server), "timeout_keep_alive": server.keep_alive_timeout_s}


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, help="TOML configuration file")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes sharing the port (default 1; about one per core)")


def serve(config: Config) -> int:
    """Serve in this process until SIGTERM or SIGINT: stop accepting, finish in-flight requests, flush, close."""
    configure_logging(config.log.level)
    uvicorn.run(create_app(config), host=config.server.host, port=config.server.port, **_uvicorn_settings(config))
    return EXIT_OK


def serve_workers(config: Config, config_path: Path, workers: int) -> int:
    """Serve with ``workers`` processes; each builds its app from the environment set here."""
    metrics_dir = Path(config.spool.path) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # values of a previous run would be summed in
    metrics_dir.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIR_ENV] = str(metrics_dir.resolve())
    os.environ[CONFIG_ENV] = str(config_path.resolve())
    os.environ[WORKERS_ENV] = str(workers)
    configure_logging(config.log.level)
    uvicorn.run("gateway.http.app:app_from_environment", factory=True, workers=workers, host=config.server.host,
                port=config.server.port, **_uvicorn_settings(config))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.workers < 1:
        print("gateway serve: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    return serve(config) if args.workers == 1 else serve_workers(config, args.config, args.workers)


COMMAND = Command("serve", "serve webhooks, publishing to the configured Kafka", _configure, _run)
