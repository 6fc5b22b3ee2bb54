"""Configuration: the documented shape decodes; wrong keys and values fail with where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import ADAPTERS
from gateway.commands.dev import bundled_dev_config
from gateway.config import ConfigError, load_config, parse_config

GOOD = """
[server]
host = "127.0.0.1"
port = 8080
max_body_bytes = 1048576
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
        (("[[sources]]", "[[sources]]\nid = 'picktime'\nprovider = 'picktime'\nsecret = 'x'\n[[sources]]"),
         "duplicate source id"),
        (("[kafka]", "[kafka]\nack_timeout_ms = 0"), "ack_timeout_ms must be positive"),
    ],
)
def test_wrong_keys_and_values_say_where(edit: tuple[str, str], message: str) -> None:
    """Each mistake is refused with a ConfigError naming its place and the problem."""
    with pytest.raises(ConfigError) as caught:
        _parse(GOOD.replace(*edit, 1))
    assert message in str(caught.value)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing file is reported as such, not as a traceback."""
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.toml")


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
