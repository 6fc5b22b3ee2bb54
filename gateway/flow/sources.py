"""The configured sources as the running gateway uses them: routed, with adapter and authenticator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from adapters import ADAPTERS
from adapters.base import Adapter, SchemeSettings, SourceContext, VendorReply, VerifiedRequest
from adapters.signatures import SOURCE_SCHEMES
from adapters.signatures.standard_webhooks import SECRET_PREFIX
from gateway.config import SourceSettings
from gateway.flow.auth import Authenticator, BasicAuth, NoAuth, SignatureAuth, TokenAuth

__all__ = ["Source", "SourceTable", "build_sources", "scheme_settings"]


@dataclass(frozen=True, slots=True)
class Source:
    """One source ready to take requests; ``redacted``: its secret values, longest first, kept out of archives."""

    context: SourceContext
    adapter: Adapter
    authenticator: Authenticator
    redacted: tuple[str, ...] = ()
    reply: Callable[[VerifiedRequest], VendorReply | None] | None = None
    """The adapter's vendor reply keyed with the source's first secret; None unless it has one and ``auth = "hmac"``."""

    @property
    def id(self) -> str:
        return self.context.id

    @property
    def provider(self) -> str:
        return self.context.provider


SourceTable = Mapping[tuple[str, str], Source]
"""Sources by (provider, source id); a source whose id is its provider's name is also its provider's default."""


def _authenticator(settings: SourceSettings, adapter: Adapter, env: Mapping[str, str]) -> Authenticator:
    secrets = settings.secret_values(env)
    if settings.auth == "token":
        return TokenAuth(secrets)
    if settings.auth == "basic":
        return BasicAuth(secrets)
    if settings.auth == "hmac":
        assert adapter.signature is not None, "config checks hmac sources have a signature scheme"
        return SignatureAuth(adapter.signature(scheme_settings(settings, env)))
    if settings.auth in SOURCE_SCHEMES:
        return SignatureAuth(SOURCE_SCHEMES[settings.auth](scheme_settings(settings, env)))
    return NoAuth()


def scheme_settings(settings: SourceSettings, env: Mapping[str, str]) -> SchemeSettings:
    """What a source configures for its signature scheme."""
    return SchemeSettings(secrets=tuple(secret.encode() for secret in settings.secret_values(env)),
                          tolerance_s=settings.signature_tolerance_s, notification_url=settings.notification_url)


def _reply(settings: SourceSettings, adapter: Adapter,
           env: Mapping[str, str]) -> Callable[[VerifiedRequest], VendorReply | None] | None:
    vendor_reply, secrets = adapter.reply, settings.secret_values(env)
    if vendor_reply is None or settings.auth != "hmac":  # only the vendor's own secret keys its answer
        return None
    secret = secrets[0].encode()
    return lambda request: vendor_reply(request, secret)


def _redacted(settings: SourceSettings, env: Mapping[str, str]) -> tuple[str, ...]:
    """The source's secrets as they could show up in a header: whole, a Basic password alone, a key without whsec_."""
    values: set[str] = set()
    for secret in settings.secret_values(env):
        values.add(secret)
        if settings.auth == "basic":
            values.add(secret.partition(":")[2])
        if settings.auth == "standard-webhooks":
            values.add(secret.removeprefix(SECRET_PREFIX))
    return tuple(sorted((value for value in values if value), key=len, reverse=True))


def build_sources(settings: list[SourceSettings], env: Mapping[str, str]) -> SourceTable:
    """The routing table for checked source settings."""
    table: dict[tuple[str, str], Source] = {}
    for item in settings:
        adapter = ADAPTERS[item.provider]
        context = SourceContext(id=item.id, provider=item.provider, timezone=item.timezone)
        table[(item.provider, item.id)] = Source(context, adapter, _authenticator(item, adapter, env),
                                                 _redacted(item, env), _reply(item, adapter, env))
    return table
