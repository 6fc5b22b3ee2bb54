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

from adapters.signatures._hmac import HmacScheme
from adapters.signatures.header_timestamp_hmac import HeaderTimestampHmac
from adapters.signatures.hex_hmac import HexHmac
from adapters.signatures.timestamped_hmac import TimestampedHmac
from adapters.signatures.url_hmac import UrlHmac

__all__ = ["SCHEMES", "HeaderTimestampHmac", "HexHmac", "HmacScheme", "TimestampedHmac", "UrlHmac"]

_CLASSES: tuple[type[HmacScheme], ...] = (HexHmac, TimestampedHmac, UrlHmac, HeaderTimestampHmac)


def _register() -> Mapping[str, type[HmacScheme]]:
    registry: dict[str, type[HmacScheme]] = {}
    for scheme in _CLASSES:
        if scheme.name in registry:
            raise RuntimeError(f"two signature schemes are named {scheme.name!r}")
        registry[scheme.name] = scheme
    return MappingProxyType(registry)


SCHEMES = _register()
