"""Decoding a vendor body into its payload Struct, repairing known malformations on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from adapters._repair import UnrepairableJSON, repair_json
from adapters.base import AdapterError
from adapters.limits import repair_limits

__all__ = ["Fixup", "convert_part", "decode_payload", "parse_embedded_json"]

T = TypeVar("T")
Fixup = Callable[[Any, list[str]], Any]
"""Mends a repaired document whose repair left it in the wrong shape; appends what it did."""

_BYTE_POSITION = re.compile(r"\(byte (\d+)\)")
_ANY_JSON = msgspec.json.Decoder()


def decode_payload(
    body: bytes, decoder: msgspec.json.Decoder[T], repairs: list[str], fixup: Fixup | None = None
) -> T:
    """Decode ``body`` with ``decoder`` (built once per payload type); on malformed JSON, repair then decode.

    Valid JSON takes msgspec's typed fast path. Repairs are appended to
    ``repairs`` (the first ``repair_limits().listed_repairs``, then a line
    counting the rest). Raises AdapterError (``malformed-json``, also past
    ``repair_limits().max_repairs``, or ``invalid-payload``) and nothing else.
    """
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise AdapterError("invalid-payload", str(exc)) from None
    except msgspec.DecodeError as exc:
        syntax_error = exc
    except RecursionError:
        raise AdapterError("malformed-json", "the document is nested too deeply") from None
    except UnicodeDecodeError as exc:
        # msgspec reports invalid UTF-8 inside a string this way, not as a DecodeError.
        raise AdapterError("malformed-json", f"a string is not UTF-8: {exc.reason} at byte {exc.start}",
                           position=exc.start) from None
    document = _repaired_document(body, syntax_error, repairs)
    if fixup is not None:
        document = fixup(document, repairs)
    try:
        # decoder.type is typed Any; it is T's type. A lax decoder converts the repaired document laxly too.
        payload: T = msgspec.convert(document, decoder.type, strict=decoder.strict)
    except msgspec.ValidationError as exc:
        raise AdapterError("invalid-payload", str(exc)) from None
    return payload


def _repaired_document(body: bytes, syntax_error: msgspec.DecodeError, repairs: list[str]) -> Any:
    found = _BYTE_POSITION.search(str(syntax_error))
    position = int(found.group(1)) if found else None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdapterError("malformed-json", f"body is not UTF-8: {exc.reason} at byte {exc.start}", position=exc.start) from None
    try:
        limits = repair_limits()
        repaired = repair_json(text.removeprefix("\ufeff"), max_repairs=limits.max_repairs,
                               listed=limits.listed_repairs)
    except UnrepairableJSON as exc:
        raise AdapterError("malformed-json", f"{syntax_error}; not repairable: {exc}", position=position) from None
    try:
        document = _ANY_JSON.decode(repaired.text)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise AdapterError("malformed-json", f"{syntax_error}; not repairable: {exc}", position=position) from None
    repairs.extend(repaired.repairs)
    return document


def parse_embedded_json(text: str | None, what: str, repairs: list[str]) -> Any:
    """Read JSON a vendor put inside a string field; None (and a repair note) when it is not JSON."""
    if not text:
        return None
    try:
        return _ANY_JSON.decode(text)
    except (msgspec.DecodeError, RecursionError) as exc:
        repairs.append(f"{what} is not valid JSON ({exc or 'nested too deeply'}); left out")
        return None


def convert_part(value: Any, into: type[T], *, strict: bool = True) -> T:
    """A decoded part of a body read as its Struct; an invalid one is AdapterError ``invalid-payload``.

    Wrap the part under its own key (``{"data": envelope.data}``) so msgspec's
    ``$.path`` in the detail reads from the body's root.
    """
    try:
        return msgspec.convert(value, into, strict=strict)
    except msgspec.ValidationError as exc:
        raise AdapterError("invalid-payload", str(exc)) from None
