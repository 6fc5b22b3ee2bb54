"""Where in a body a byte offset is, for people: line and column like an editor shows them."""

from __future__ import annotations

import re

import msgspec

__all__ = ["SyntaxProblem", "line_column", "syntax_problem"]

_BYTE = re.compile(r"\(byte (\d+)\)")


class SyntaxProblem(msgspec.Struct, frozen=True, kw_only=True):
    """What msgspec says is wrong with a body as sent, and where."""

    message: str
    position: int | None = None
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        return f"line {self.line} column {self.column}" if self.line is not None else "unknown position"


def line_column(body: bytes, position: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``position``; the repairer counts the same way."""
    before = body[:position].decode("utf-8", errors="replace")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def syntax_problem(body: bytes) -> SyntaxProblem | None:
    """msgspec's own syntax error for ``body`` before any repair, or None when it is valid JSON."""
    try:
        msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        message = str(exc)
    except RecursionError:
        return SyntaxProblem(message="the document is nested too deeply")
    else:
        return None
    found = _BYTE.search(message)
    if found is None:
        return SyntaxProblem(message=message)
    position = int(found.group(1))
    line, column = line_column(body, position)
    return SyntaxProblem(message=message, position=position, line=line, column=column)
