"""A canonical event as a business's own system sends it through the ``canonical`` provider."""

from __future__ import annotations

from typing import Literal

import msgspec

from schemas.canonical import EventData, EventType, NonEmptyStr, SpecVersion, Timestamp, Uri, UriReference

__all__ = ["SentEvent"]


class SentEvent(msgspec.Struct, frozen=True, kw_only=True):
    """CloudEvents 1.0 structured JSON with a canonical ``type`` and ``data`` (strict: the published schema).

    The gateway publishes ``id``, ``type``, ``subject``, ``time`` and ``data``
    as sent; its own ``source`` and ``provider`` replace the sender's.
    Other attributes (extensions) are ignored.
    """

    specversion: SpecVersion
    id: NonEmptyStr
    source: UriReference
    type: EventType
    subject: NonEmptyStr
    data: EventData
    time: Timestamp | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Uri | None = None
