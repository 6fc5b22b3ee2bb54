"""Signature schemes by name, apart from the vendors that use them: a vendor names one, a source may choose one.

A vendor's ``ADAPTER`` carries a scheme with its settings (header name,
prefix); calling it with a source's SchemeSettings gives the verifier.
``SCHEMES`` finds a scheme class by name, so a source's ``auth`` can later
name another scheme (one whose settings all have defaults, as Standard
Webhooks' fixed headers do).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import SignatureSchemeFactory
from adapters.signatures._hmac import HmacScheme
from adapters.signatures.header_timestamp_hmac import HeaderTimestampHmac
from adapters.signatures.hex_hmac import HexHmac
from adapters.signatures.standard_webhooks import StandardWebhooks
from adapters.signatures.timestamped_hmac import TimestampedHmac
from adapters.signatures.url_hmac import UrlHmac

__all__ = ["SCHEMES", "SOURCE_SCHEMES", "HeaderTimestampHmac", "HexHmac", "HmacScheme", "StandardWebhooks",
           "TimestampedHmac", "UrlHmac"]

_CLASSES: tuple[type[HmacScheme], ...] = (HexHmac, TimestampedHmac, StandardWebhooks, UrlHmac, HeaderTimestampHmac)


def _register() -> Mapping[str, type[HmacScheme]]:
    registry: dict[str, type[HmacScheme]] = {}
    for scheme in _CLASSES:
        if scheme.name in registry:
            raise RuntimeError(f"two signature schemes are named {scheme.name!r}")
        registry[scheme.name] = scheme
    return MappingProxyType(registry)


SCHEMES = _register()

SOURCE_SCHEMES: Mapping[str, SignatureSchemeFactory] = MappingProxyType({StandardWebhooks.name: StandardWebhooks()})
"""The schemes a source's ``auth`` may name whatever its provider (their settings are the spec's): by name.

Calling one with a source's secrets raises ValueError for a secret it cannot read (checked at start).
"""
