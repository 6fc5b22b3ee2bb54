"""``gateway dev``: an embedded broker on loopback, the topics created, then serve.

Dev mode adapts any configuration to its broker, and says so: Tansu has no
idempotent producer, so ``kafka.idempotence`` is off; and Tansu keeps records
in memory only, so the dedupe store starts empty (a delivery seen by an
earlier run's broker would otherwise be answered "duplicate" while the new
broker has never seen it). The spool is kept: what an earlier run spooled is
relayed to the new broker.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import socket
import sys
from importlib import resources
from pathlib import Path
from types import FrameType

import msgspec

from adapters import ADAPTERS
from adapters.base import Adapter
from gateway.commands import Command
from gateway.commands._console import invocation, say
from gateway.commands.serve import serve
from gateway.config import Config, ConfigError, SourceSettings, load_config, parse_config
from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.topics import ensure_topics
from gateway.storage.dedupe import DedupeStore

__all__ = ["COMMAND", "bundled_dev_config", "dev_settings", "dev_source"]

BUNDLED_CONFIG = "gateway/dev.toml"
"""Where the bundled dev configuration lives in the repository (the package's ``dev.toml``)."""


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help=f"TOML configuration file (default: the bundled {BUNDLED_CONFIG})")


DEV_TIMEZONE = "Europe/Berlin"
"""The time zone of dev sources whose vendor sends local times."""


def dev_source(adapter: Adapter, base_url: str = "http://127.0.0.1:8080") -> SourceSettings:
    """The dev source of a registered vendor: at /webhooks/<vendor>, its default auth, a dev-only secret.

    A vendor that signs its URL gets ``<base_url>/webhooks/<vendor>`` as ``notification_url``: in dev mode
    the URL it posts to is the one the gateway sees.
    """
    secret = f"dev-{adapter.name}-{'secret' if adapter.default_auth == 'hmac' else 'token'}"
    url = f"{base_url}/webhooks/{adapter.name}" if adapter.needs_notification_url else None
    return SourceSettings(id=adapter.name, provider=adapter.name, auth=adapter.default_auth, secret=secret,
                          timezone=DEV_TIMEZONE if adapter.needs_timezone else None, notification_url=url)


def bundled_dev_config() -> Config:
    """The dev configuration shipped in the package, with one source per registered vendor (dev-only secrets)."""
    text = resources.files("gateway").joinpath("dev.toml").read_bytes()
    config = parse_config(text, f"bundled {BUNDLED_CONFIG}", os.environ)
    base_url = f"http://{config.server.host}:{config.server.port}"
    return msgspec.structs.replace(config, sources=[dev_source(adapter, base_url) for adapter in ADAPTERS.values()])


def dev_settings(config: Config) -> tuple[Config, list[str]]:
    """The configuration as dev mode runs it against its embedded broker, and a line for each setting it changed."""
    notes = []
    if config.kafka.idempotence:
        config = msgspec.structs.replace(config, kafka=msgspec.structs.replace(config.kafka, idempotence=False))
        notes.append("kafka.idempotence is off in dev mode: the embedded broker has no idempotent producer")
    return config, notes


def _exit_after_shutdown(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _taken(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and Tansu bind
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise ConfigError(f"{host}:{port}", f"cannot listen there ({exc.strerror})") from None
    return False


def _check_ports_free(config: Config, broker_host: str, broker_port: int) -> None:
    for host, port, setting in ((config.server.host, config.server.port, "server.port"),
                                (broker_host, broker_port, "kafka.bootstrap_servers")):
        if _taken(host, port):
            raise ConfigError(setting, f"port {port} on {host} is taken (is another `gateway dev` running?); "
                                       f"stop it, or choose another {setting}")


def _run(args: argparse.Namespace) -> int:
    # uvicorn re-raises SIGTERM/SIGINT once its graceful shutdown is done; exiting 0 then lets the `with`
    # below stop the embedded broker, and tells `make run` the stop was clean.
    signal.signal(signal.SIGTERM, _exit_after_shutdown)
    signal.signal(signal.SIGINT, _exit_after_shutdown)
    config, notes = dev_settings(load_config(args.config) if args.config else bundled_dev_config())
    host, _, port = config.kafka.bootstrap_servers.rpartition(":")
    if not (port.isascii() and port.isdigit()):
        raise ConfigError("kafka.bootstrap_servers", "dev mode needs one host:port on loopback")
    _check_ports_free(config, host, int(port))
    if DedupeStore.forget_all(config.spool.path):
        notes.append(f"dedupe store in {config.spool.path} cleared: the embedded broker starts empty, "
                     "so every delivery is new again")
    for note in notes:
        say("dev", note)
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
            signed_url = f", signed URL {source.notification_url!r}" if source.notification_url else ""
            secret = f"  ({source.auth}, dev secret {source.secret_values(os.environ)[0]!r}{signed_url})"
        lines.append(f"  {source.provider:<14} {url}{secret}")
    lines.append(f"watch events: {invocation()} tail --bootstrap {config.kafka.bootstrap_servers}")
    print("\n".join(lines), file=sys.stderr, flush=True)


COMMAND = Command("dev", "start an embedded broker, create the topics and serve", _configure, _run)
