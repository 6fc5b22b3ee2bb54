"""The gateway's TOML configuration, decoded into msgspec Structs and checked before start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from adapters import ADAPTERS
from adapters.base import SchemeSettings
from adapters.signatures import SOURCE_SCHEMES

__all__ = [
    "Config",
    "ConfigError",
    "DedupeSettings",
    "KafkaSettings",
    "LogSettings",
    "MappingSettings",
    "ServerSettings",
    "SourceSettings",
    "SpoolSettings",
    "TopicSettings",
    "load_config",
    "parse_config",
]

AuthScheme = Literal["none", "token", "basic", "hmac", "standard-webhooks"]


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A configuration table: unknown keys are errors, not silently ignored."""


class ServerSettings(_Section, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8080
    # Below kafka.max_record_bytes by the headers' room, so a body at the limit still fits in its raw record.
    max_body_bytes: int = 983_040
    # The HTTP edge against hostile clients (README, "Security"); per worker process.
    max_header_count: int = 100
    max_header_bytes: int = 65_536
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_timeout_s: float = 5.0
    max_connections: int = 1000


class KafkaSettings(_Section, frozen=True):
    bootstrap_servers: str = "127.0.0.1:9092"
    idempotence: bool = True
    client_id: str = "booking-gateway"
    ack_timeout_ms: int = 1000
    request_timeout_ms: int = 30_000
    linger_ms: int = 0
    max_batch_bytes: int = 1_048_576
    compression: Literal["none", "gzip"] = "none"
    # Apache Kafka's message.max.bytes: a request with a record larger than this is answered 413.
    max_record_bytes: int = 1_048_588


class TopicSettings(_Section, frozen=True):
    canonical: str = "bookings.events.v1"
    raw: str = "bookings.raw.v1"
    dead_letter: str = "bookings.dead-letter.v1"
    partitions: int = 3
    replication_factor: int = 1


class SpoolSettings(_Section, frozen=True):
    path: str = "var/spool"
    max_bytes: int = 1_073_741_824


class DedupeSettings(_Section, frozen=True):
    """Where deliveries are claimed and remembered: this host's SQLite, or a Redis every replica shares."""

    backend: Literal["local", "redis"] = "local"
    window_s: int = 86_400
    redis_url: str | None = None
    redis_url_env: str | None = None
    redis_timeout_ms: int = 250
    claim_ttl_s: int = 30
    wait_ms: int = 5000

    def redis_address(self, env: Mapping[str, str]) -> str | None:
        """The Redis URL: ``redis_url``, else the variable ``redis_url_env`` names."""
        if self.redis_url:
            return self.redis_url
        return env.get(self.redis_url_env) if self.redis_url_env else None


class MappingSettings(_Section, frozen=True):
    """What mapping one body may cost: repairs allowed and described, events made, and from what size it leaves the loop."""

    max_repairs: int = 1000
    listed_repairs: int = 20
    thread_above_bytes: int = 16_384
    threads: int = 2
    max_events: int = 1000


class LogSettings(_Section, frozen=True):
    level: Literal["debug", "info", "warning", "error"] = "info"


class SourceSettings(_Section, frozen=True):
    """One configured source: where a vendor posts, and how it proves who it is."""

    id: str
    provider: str
    auth: AuthScheme = "token"
    secret: str | None = None
    secrets: list[str] = []
    secret_env: str | None = None
    timezone: str | None = None
    signature_tolerance_s: int = 300
    notification_url: str | None = None

    def secret_values(self, env: Mapping[str, str]) -> tuple[str, ...]:
        """Every secret this source accepts, in order (several allow rotation)."""
        values = [self.secret] if self.secret else []
        values.extend(self.secrets)
        if self.secret_env:
            values.append(env.get(self.secret_env, ""))
        return tuple(value for value in values if value)


class Config(_Section, frozen=True):
    server: ServerSettings = ServerSettings()
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    spool: SpoolSettings = SpoolSettings()
    dedupe: DedupeSettings = DedupeSettings()
    log: LogSettings = LogSettings()
    mapping: MappingSettings = MappingSettings()
    sources: list[SourceSettings] = []


class ConfigError(Exception):
    """A configuration that cannot be used, with where and why."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the TOML file at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the file ({exc.strerror})") from None
    return parse_config(data, str(path), os.environ if env is None else env)


def parse_config(data: bytes | str, where: str, env: Mapping[str, str]) -> Config:
    """Decode TOML text into a checked Config."""
    try:
        config = msgspec.toml.decode(data, type=Config)
    except msgspec.DecodeError as exc:
        raise ConfigError(where, str(exc)) from None
    _check(config, where, env)
    return config


_EDGE_LIMITS = ("max_header_count", "max_header_bytes", "header_timeout_s", "body_timeout_s", "keep_alive_timeout_s",
                "max_connections")


def _check(config: Config, where: str, env: Mapping[str, str]) -> None:
    if not 0 < config.server.port < 65536:
        raise ConfigError(where, f"server.port {config.server.port} is not a TCP port - at $.server.port")
    if config.server.max_body_bytes <= 0:
        raise ConfigError(where, "server.max_body_bytes must be positive - at $.server.max_body_bytes")
    for setting in _EDGE_LIMITS:
        if getattr(config.server, setting) <= 0:
            raise ConfigError(where, f"server.{setting} must be positive - at $.server.{setting}")
    for name, value in (("kafka.ack_timeout_ms", config.kafka.ack_timeout_ms),
                        ("spool.max_bytes", config.spool.max_bytes), ("dedupe.window_s", config.dedupe.window_s),
                        ("dedupe.redis_timeout_ms", config.dedupe.redis_timeout_ms),
                        ("dedupe.claim_ttl_s", config.dedupe.claim_ttl_s), ("dedupe.wait_ms", config.dedupe.wait_ms),
                        ("kafka.max_record_bytes", config.kafka.max_record_bytes)):
        if value <= 0:
            raise ConfigError(where, f"{name} must be positive - at $.{name}")
    if config.server.max_body_bytes >= config.kafka.max_record_bytes:
        raise ConfigError(where, "server.max_body_bytes must be below kafka.max_record_bytes (a body's raw record "
                                 "holds the body and its headers, and Kafka refuses a larger record for good) "
                                 "- at $.server.max_body_bytes")
    if config.kafka.max_batch_bytes > config.kafka.max_record_bytes:
        raise ConfigError(where, "kafka.max_batch_bytes must not exceed kafka.max_record_bytes (the broker refuses "
                                 "larger batches) - at $.kafka.max_batch_bytes")
    _check_mapping(config.mapping, where)
    _check_dedupe(config.dedupe, where, env)
    if config.dedupe.claim_ttl_s * 1000 <= config.kafka.ack_timeout_ms:
        raise ConfigError(where, "dedupe.claim_ttl_s must exceed kafka.ack_timeout_ms (a claim outlives its publish)"
                                 " - at $.dedupe.claim_ttl_s")
    seen: set[str] = set()
    for index, source in enumerate(config.sources):
        _check_source(source, f"{where}: $.sources[{index}]", env)
        if source.id in seen:
            raise ConfigError(f"{where}: $.sources[{index}].id", f"duplicate source id {source.id!r}")
        seen.add(source.id)


def _check_dedupe(dedupe: DedupeSettings, where: str, env: Mapping[str, str]) -> None:
    if dedupe.wait_ms > dedupe.claim_ttl_s * 1000:
        raise ConfigError(where, "dedupe.wait_ms must not exceed dedupe.claim_ttl_s - at $.dedupe.wait_ms")
    if dedupe.redis_url_env and dedupe.redis_url_env not in env:
        raise ConfigError(f"{where}: $.dedupe.redis_url_env", f"environment variable {dedupe.redis_url_env} is not set")
    address = dedupe.redis_address(env)
    if dedupe.backend == "redis" and not address:
        raise ConfigError(f"{where}: $.dedupe", "backend = 'redis' needs redis_url or redis_url_env")
    if address and not address.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{where}: $.dedupe", "a Redis URL starts with redis://, rediss:// or unix://")


def _check_scheme_secrets(source: SourceSettings, where: str, env: Mapping[str, str]) -> None:
    """A scheme a source chooses (``standard-webhooks``) refuses at start the secrets it could not use."""
    try:
        secrets = tuple(value.encode() for value in source.secret_values(env))
        SOURCE_SCHEMES[source.auth](SchemeSettings(secrets=secrets))
    except ValueError as exc:
        raise ConfigError(where, f"auth = {source.auth!r}: {exc}") from None


def _check_mapping(mapping: MappingSettings, where: str) -> None:
    for name in ("max_repairs", "listed_repairs", "thread_above_bytes", "max_events"):
        if getattr(mapping, name) < 0:
            raise ConfigError(where, f"mapping.{name} must not be negative - at $.mapping.{name}")
    if mapping.threads <= 0:
        raise ConfigError(where, "mapping.threads must be positive - at $.mapping.threads")


def _check_source(source: SourceSettings, where: str, env: Mapping[str, str]) -> None:
    adapter = ADAPTERS.get(source.provider)
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(f"{where}.provider", f"unknown provider {source.provider!r} (known: {known})")
    if not source.id or "/" in source.id:
        raise ConfigError(f"{where}.id", "a source id must be non-empty and contain no '/'")
    if source.auth == "hmac" and adapter.signature is None:
        raise ConfigError(f"{where}.auth", f"{source.provider} has no signature scheme; use token or basic")
    if source.secret_env and source.secret_env not in env:
        raise ConfigError(f"{where}.secret_env", f"environment variable {source.secret_env} is not set")
    if source.auth != "none" and not source.secret_values(env):
        raise ConfigError(where, f"auth = {source.auth!r} needs secret, secrets or secret_env")
    if source.auth == "basic" and not all(":" in value for value in source.secret_values(env)):
        raise ConfigError(where, "auth = 'basic' secrets are 'user:password'")
    if source.auth in SOURCE_SCHEMES:
        _check_scheme_secrets(source, where, env)
    _check_notification_url(source, adapter.needs_notification_url, where)
    if source.timezone is not None:
        try:
            ZoneInfo(source.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where}.timezone", f"unknown IANA time zone {source.timezone!r}") from None


def _check_notification_url(source: SourceSettings, needed: bool, where: str) -> None:
    """A vendor that signs its URL needs it, as typed in its dashboard; no other source takes one."""
    url = source.notification_url
    if url is None:
        if needed and source.auth == "hmac":
            raise ConfigError(f"{where}.notification_url", f"{source.provider} signs the URL it posts to: set "
                                                            "notification_url to that public URL, byte for byte")
        return
    if not needed:
        raise ConfigError(f"{where}.notification_url", f"{source.provider} does not sign its URL; remove it")
    if not url.startswith(("https://", "http://")) or url != url.strip():
        raise ConfigError(f"{where}.notification_url", f"{url!r} is not an absolute http(s) URL")
