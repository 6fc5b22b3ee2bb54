"""Configuration: the documented shape decodes; wrong keys and values fail with where and why."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import get_args

import msgspec
import pytest

from adapters import ADAPTERS
from adapters.signatures import SOURCE_SCHEMES
from gateway.commands.dev import bundled_dev_config
from gateway.config import AuthScheme, ConfigError, DedupeSettings, MappingSettings, load_config, parse_config

GOOD = """
[server]
host = "127.0.0.1"
port = 8080
max_body_bytes = 983040
[kafka]
bootstrap_servers = "127.0.0.1:9092"
idempotence = true
[topics]
canonical = "bookings.events.v1"
raw = "bookings.raw.v1"
dead_letter = "bookings.dead-letter.v1"
[spool]
path = "var/spool"
[[sources]]
id = "picktime"
provider = "picktime"
auth = "token"
secret_env = "PICKTIME_SECRET"
timezone = "Europe/Berlin"
"""


def _parse(text: str, env: dict[str, str] | None = None) -> object:
    return parse_config(text, "test.toml", {"PICKTIME_SECRET": "s"} if env is None else env)


def test_documented_shape_decodes() -> None:
    """The shape the README documents decodes, with the secret read from the environment."""
    config = parse_config(GOOD, "test.toml", {"PICKTIME_SECRET": "from-env"})
    assert config.sources[0].secret_values({"PICKTIME_SECRET": "from-env"}) == ("from-env",)
    assert config.topics.dead_letter == "bookings.dead-letter.v1"


def test_bundled_dev_config_is_valid() -> None:
    """The dev config shipped in the package loads; its sources come from the registry, not the file."""
    assert not load_config(Path(__file__).parents[2] / "gateway" / "dev.toml").sources
    assert {source.provider for source in bundled_dev_config().sources} == set(ADAPTERS)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("[server]", "[server]\nbogus = 1"), "Object contains unknown field `bogus` - at `$.server`"),
        (('port = 8080', 'port = "8080"'), "Expected `int`, got `str` - at `$.server.port`"),
        (('port = 8080', 'port = 0'), "not a TCP port"),
        (('auth = "token"', 'auth = "magic"'), "$.sources[0].auth"),
        (('provider = "picktime"', 'provider = "nobody"'), "unknown provider 'nobody'"),
        (('auth = "token"', 'auth = "hmac"'), "picktime has no signature scheme"),
        (('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"'), "unknown IANA time zone"),
        (('secret_env = "PICKTIME_SECRET"', 'secret_env = "NOT_SET_ANYWHERE"'), "NOT_SET_ANYWHERE is not set"),
        (('secret_env = "PICKTIME_SECRET"', ''), "needs secret, secrets or secret_env"),
        (('auth = "token"', 'auth = "basic"'), "'user:password'"),
        (('auth = "token"', 'auth = "standard-webhooks"'), "auth = 'standard-webhooks': a Standard Webhooks secret "
                                                          "starts with 'whsec_'"),
        (("[[sources]]", "[[sources]]\nid = 'picktime'\nprovider = 'picktime'\nsecret = 'x'\n[[sources]]"),
         "duplicate source id"),
        (("[kafka]", "[kafka]\nack_timeout_ms = 0"), "ack_timeout_ms must be positive"),
        (("[spool]", "[dedupe]\nbackend = 'memcached'\n[spool]"), "$.dedupe.backend"),
        (("[spool]", "[dedupe]\nbackend = 'redis'\n[spool]"), "backend = 'redis' needs redis_url or redis_url_env"),
        (("[spool]", "[dedupe]\nredis_url_env = 'NO_REDIS_HERE'\n[spool]"), "NO_REDIS_HERE is not set"),
        (("[spool]", "[dedupe]\nredis_url = 'localhost:6379'\n[spool]"), "starts with redis://"),
        (("[spool]", "[dedupe]\nwait_ms = 31000\n[spool]"), "dedupe.wait_ms must not exceed dedupe.claim_ttl_s"),
        (("[spool]", "[dedupe]\nredis_timeout_ms = 0\n[spool]"), "dedupe.redis_timeout_ms must be positive"),
        (("[spool]", "[dedupe]\nclaim_ttl_s = 1\nwait_ms = 500\n[spool]"), "claim_ttl_s must exceed kafka.ack_timeout_ms"),
        (("[kafka]", "[kafka]\nmax_record_bytes = 0"), "max_record_bytes must be positive"),
        (("[kafka]", "[kafka]\nmax_record_bytes = 65536"), "max_body_bytes must be below kafka.max_record_bytes"),
        (("max_body_bytes = 983040\n[kafka]", "max_body_bytes = 4096\n[kafka]\nmax_record_bytes = 65536"),
         "max_batch_bytes must not exceed kafka.max_record_bytes"),
    ],
)
def test_wrong_keys_and_values_say_where(edit: tuple[str, str], message: str) -> None:
    """Each mistake is refused with a ConfigError naming its place and the problem."""
    with pytest.raises(ConfigError) as caught:
        _parse(GOOD.replace(*edit, 1))
    assert message in str(caught.value)


@pytest.mark.parametrize("provider", sorted(ADAPTERS))
def test_any_source_may_choose_standard_webhooks(provider: str) -> None:
    """``auth = "standard-webhooks"`` is open to every vendor's source, with a ``whsec_`` secret."""
    text = GOOD.replace('provider = "picktime"', f'provider = "{provider}"').replace(
        'auth = "token"', 'auth = "standard-webhooks"')
    config = parse_config(text, "test.toml", {"PICKTIME_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
    assert config.sources[0].auth == "standard-webhooks"


def test_every_source_scheme_is_a_configurable_auth() -> None:
    """The schemes any source may choose are all spelled in the config's ``auth`` Literal."""
    assert set(SOURCE_SCHEMES) <= set(get_args(AuthScheme))


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing file is reported as such, not as a traceback."""
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.toml")


def test_dedupe_defaults_to_the_local_store_and_reads_the_redis_url_from_the_environment() -> None:
    """No [dedupe] table: local, bounded waits. redis_url_env: the URL (which may hold a password) from the env."""
    config = parse_config(GOOD, "test.toml", {"PICKTIME_SECRET": "s"})
    assert (config.dedupe.backend, config.dedupe.redis_timeout_ms, config.dedupe.wait_ms) == ("local", 250, 5000)
    env = {"PICKTIME_SECRET": "s", "GATEWAY_REDIS_URL": "redis://:pw@redis:6379/0"}
    text = GOOD.replace("[spool]", "[dedupe]\nbackend = 'redis'\nredis_url_env = 'GATEWAY_REDIS_URL'\n[spool]")
    assert parse_config(text, "test.toml", env).dedupe.redis_address(env) == "redis://:pw@redis:6379/0"


def test_the_readme_shows_every_dedupe_setting_with_its_default() -> None:
    """The README's configuration block shows [dedupe] with the defaults (the Redis URLs as comments)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = re.search(r"^```toml\n(.*?)^```", readme, flags=re.M | re.S)
    assert block is not None
    assert msgspec.convert(tomllib.loads(block.group(1))["dedupe"], DedupeSettings) == DedupeSettings()
    dedupe_lines = block.group(1).split("[dedupe]\n", 1)[1].split("\n[", 1)[0]
    for name in DedupeSettings.__struct_fields__:
        assert f"{name} = " in dedupe_lines, name


@pytest.mark.parametrize(("mapping", "message"), [
    ("max_repairs = -1", "mapping.max_repairs must not be negative - at $.mapping.max_repairs"),
    ("listed_repairs = -1", "mapping.listed_repairs must not be negative"),
    ("thread_above_bytes = -1", "mapping.thread_above_bytes must not be negative"),
    ("threads = 0", "mapping.threads must be positive - at $.mapping.threads"),
    ("max_events = -1", "mapping.max_events must not be negative"),
])
def test_mapping_limits_are_checked(mapping: str, message: str) -> None:
    """The repair budget, its listing, the size that leaves the loop and the thread count are refused when absurd."""
    with pytest.raises(ConfigError) as caught:
        _parse(GOOD.replace("[spool]", f"[mapping]\n{mapping}\n[spool]", 1))
    assert message in str(caught.value)


def test_mapping_limits_have_safe_defaults_and_can_be_set() -> None:
    """Unset: 1000 repairs a body, 20 listed, 1000 events a request, bodies over 16 KiB on 2 threads; each can be set."""
    config = parse_config(GOOD, "test.toml", {"PICKTIME_SECRET": "s"})
    assert (config.mapping.max_repairs, config.mapping.listed_repairs) == (1000, 20)
    assert (config.mapping.thread_above_bytes, config.mapping.threads) == (16_384, 2)
    assert config.mapping.max_events == 1000
    text = GOOD.replace("[spool]", "[mapping]\nmax_repairs = 0\nthread_above_bytes = 0\n[spool]", 1)
    assert parse_config(text, "test.toml", {"PICKTIME_SECRET": "s"}).mapping.max_repairs == 0


def test_the_readme_documents_every_mapping_setting_with_its_default() -> None:
    """The README's configuration block shows [mapping] with the defaults, and its Security table names each setting."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = re.search(r"^```toml\n(.*?)^```", readme, flags=re.M | re.S)
    assert block is not None
    shown = msgspec.convert(tomllib.loads(block.group(1))["mapping"], MappingSettings)
    assert shown == MappingSettings()
    security = readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    for name in MappingSettings.__struct_fields__:
        assert f"`mapping.{name}` |" in security, name


EDGE_LIMITS = ["max_header_count", "max_header_bytes", "header_timeout_s", "body_timeout_s", "keep_alive_timeout_s",
               "max_connections"]


@pytest.mark.parametrize("setting", EDGE_LIMITS)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_every_edge_limit_must_be_positive(setting: str, value: str) -> None:
    """A limit of the HTTP edge at zero or below is refused at start, naming it."""
    with pytest.raises(ConfigError, match=f"server.{setting} must be positive - at \\$.server.{setting}"):
        _parse(GOOD.replace("[server]", f"[server]\n{setting} = {value}", 1))


def test_edge_limits_have_safe_defaults() -> None:
    """Without a setting, each limit is the documented default: bounded headers, read timeouts of at most 30 s."""
    server = parse_config(GOOD, "test.toml", {"PICKTIME_SECRET": "s"}).server
    assert (server.max_header_count, server.max_header_bytes) == (100, 65_536)
    assert 0 < server.header_timeout_s <= 30 and 0 < server.body_timeout_s <= 30
    assert server.keep_alive_timeout_s == 5 and server.max_connections == 1000
    timeouts = parse_config(GOOD.replace("[server]", "[server]\nheader_timeout_s = 0.5", 1), "t", {"PICKTIME_SECRET": "s"})
    assert timeouts.server.header_timeout_s == 0.5
