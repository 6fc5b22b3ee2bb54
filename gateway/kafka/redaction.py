"""Credentials redacted from archived header values: query parameters, URL userinfo, the source's own secrets.

Proxies copy the original URL into headers (``X-Forwarded-Uri``,
``X-Original-URI``, ``X-Envoy-Original-Path``, ``Referer``, ``X-Rewrite-Url``,
...), so a ``?token=`` the gateway never archives from its own query string
would reach the raw topic through them. Every value is cleaned, whatever its
header's name. Linear in the value; a value holding none of ``=``, ``@``,
``%`` or a secret is returned as it is after a few substring scans.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from urllib.parse import unquote

__all__ = ["REDACTED", "redact"]

REDACTED = "[redacted]"
# A parameter's name, after the start or a delimiter. The class holds neither '=' nor a delimiter, so each
# attempt is one forward scan and the whole search is linear, whatever the sender puts in the header.
_NAME = re.compile(r"(?:^|(?<=[?&;#,=\s]))([^=&?#;,\s]+)=")
# A credential's value runs to the next delimiter; '?' and '=' are part of it, so nothing of it is left.
_VALUE_END = re.compile(r"[&#;,\s]")
_USERINFO = re.compile(r"//[^/?#@\s]+@")
_CREDENTIAL_PARTS = ("sig", "token", "secret", "key", "pass", "pwd", "auth", "credential", "session", "code", "jwt")
_DECODE_ROUNDS = 3  # a URL inside a query inside a URL: percent-encoded twice, and once more for luck


@functools.lru_cache(maxsize=1024)
def _is_credential(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _CREDENTIAL_PARTS)


def _redact_parameters(value: str) -> str:
    """Each credential-named parameter's value replaced; other values are searched on, so a URL inside one is too."""
    parts: list[str] = []
    done = 0
    match = _NAME.search(value)
    while match is not None:
        if not _is_credential(match.group(1)):
            match = _NAME.search(value, match.end())
            continue
        end = _VALUE_END.search(value, match.end())
        stop = len(value) if end is None else end.start()
        parts += (value[done:match.end()], REDACTED)
        done = stop
        match = _NAME.search(value, stop)
    return "".join((*parts, value[done:])) if parts else value


def _redact_plain(value: str, secrets: Sequence[str]) -> str:
    if "=" in value:
        value = _redact_parameters(value)
    if "@" in value and "//" in value:
        value = _USERINFO.sub(f"//{REDACTED}@", value)
    for secret in secrets:
        if secret and secret in value:
            value = value.replace(secret, REDACTED)
    return value


def _decoded(value: str) -> str:
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value


def redact(value: str, secrets: Sequence[str] = ()) -> str:
    """``value`` with credential-named parameters, URL userinfo and every one of ``secrets`` replaced.

    A percent-encoded credential (a URL in a ``redirect=`` parameter) is
    found in the decoded text; the value is then kept decoded and redacted.
    ``secrets`` should come longest first, so a secret holding another goes whole.
    """
    if "%" in value:
        decoded = _decoded(value)
        if decoded != value:
            cleaned = _redact_plain(decoded, secrets)
            if cleaned != decoded:
                return cleaned
    return _redact_plain(value, secrets)
