"""Repairing the JSON malformations vendors really send, saying what was repaired.

Only for bodies msgspec has already refused. Repairs: a missing ``,`` between
members or elements, a trailing ``,`` before ``}`` or ``]``, containers left
open at the end of the input, and non-breaking spaces used as indentation.
Anything else (a missing ``:``, an unterminated string, a bare word) is not
guessed at: it raises ``UnrepairableJSON`` with the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Repaired", "UnrepairableJSON", "repair_json"]

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<nbsp>\u00a0+)
  | (?P<punct>[{}\[\]:,])
  | (?P<string>"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*")
  | (?P<scalar>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)
    """,
    re.VERBOSE,
)
_CLOSER = {"{": "}", "[": "]"}


class UnrepairableJSON(ValueError):
    """JSON broken in a way the repairer does not guess at."""

    def __init__(self, message: str, position: int, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line} column {column} (char {position})")
        self.position = position


@dataclass
class Repaired:
    """The repaired document and one sentence per repair, in input order."""

    text: str
    repairs: list[str] = field(default_factory=list)


@dataclass
class _Frame:
    opener: str
    expect: str  # "key", "colon", "value", "next" (a ',' or the closer)
    after_comma: bool = False
    comma_index: int = -1
    comma_position: int = -1

    def closable(self) -> bool:
        """True unless a member is half written (a name without ':' or value)."""
        return self.expect != "colon" and not (self.expect == "value" and self.opener == "{")


def _line_col(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def repair_json(text: str) -> Repaired:
    """Return ``text`` with the known malformations repaired, or raise UnrepairableJSON."""
    return _Repairer(text).run()


class _Repairer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.repairs: list[str] = []
        self.stack: list[_Frame] = []
        self.done = False
        self.nbsp_seen = False

    def where(self, position: int) -> str:
        line, column = _line_col(self.text, position)
        return f"line {line} column {column}"

    def fail(self, message: str, position: int) -> UnrepairableJSON:
        line, column = _line_col(self.text, position)
        return UnrepairableJSON(message, position, line, column)

    def run(self) -> Repaired:
        position = 0
        while position < len(self.text):
            match = _TOKEN.match(self.text, position)
            if match is None:
                raise self.fail(f"unexpected character {self.text[position]!r}", position)
            kind = match.lastgroup
            token = match.group()
            if kind == "nbsp":
                self.nbsp_seen = True
            elif kind != "ws":
                self.feed(kind or "", token, position)
            position = match.end()
        self.finish(len(self.text))
        return Repaired("".join(self.out), self.repairs)

    def feed(self, kind: str, token: str, position: int) -> None:
        if self.done:
            raise self.fail("unexpected data after the end of the document", position)
        frame = self.stack[-1] if self.stack else None
        is_value_start = kind in ("string", "scalar") or token in "{["
        if token in "}]":
            self.close(token, frame, position)
        elif token == ",":
            self.comma(frame, position)
        elif token == ":":
            if frame is None or frame.expect != "colon":
                raise self.fail("unexpected ':'", position)
            self.out.append(":")
            frame.expect = "value"
        elif is_value_start:
            self.value(kind, token, frame, position)

    def value(self, kind: str, token: str, frame: _Frame | None, position: int) -> None:
        if frame is not None and frame.expect == "next":
            self.out.append(",")
            shown = token if len(token) <= 40 else token[:37] + "..."
            self.repairs.append(f"inserted a missing ',' before {shown} at {self.where(position)}")
            frame.expect = "key" if frame.opener == "{" else "value"
        if frame is not None and frame.expect == "key":
            if kind != "string":
                raise self.fail("expected a member name", position)
            self.out.append(token)
            frame.expect = "colon"
            frame.after_comma = False
            return
        if frame is not None and frame.expect == "colon":
            raise self.fail("expected ':'", position)
        self.out.append(token)
        if frame is not None:
            frame.after_comma = False
        if token in "{[":
            self.stack.append(_Frame(token, "key" if token == "{" else "value"))
            return
        self.value_done()

    def value_done(self) -> None:
        if self.stack:
            self.stack[-1].expect = "next"
        else:
            self.done = True

    def comma(self, frame: _Frame | None, position: int) -> None:
        if frame is None or frame.expect != "next":
            raise self.fail("unexpected ','", position)
        frame.comma_index = len(self.out)
        self.out.append(",")
        frame.expect = "key" if frame.opener == "{" else "value"
        frame.after_comma = True
        frame.comma_position = position

    def close(self, token: str, frame: _Frame | None, position: int) -> None:
        if frame is None or _CLOSER[frame.opener] != token:
            raise self.fail(f"unexpected {token!r}", position)
        if frame.after_comma:
            self.drop_trailing_comma(frame)
        elif not frame.closable():
            raise self.fail(f"unexpected {token!r}", position)
        self.out.append(token)
        self.stack.pop()
        self.value_done()

    def drop_trailing_comma(self, frame: _Frame) -> None:
        del self.out[frame.comma_index]
        self.repairs.append(f"removed a trailing ',' at {self.where(frame.comma_position)}")

    def finish(self, end: int) -> None:
        if not self.out:
            raise self.fail("empty document", end)
        while self.stack:
            frame = self.stack.pop()
            if frame.after_comma:
                self.drop_trailing_comma(frame)
            elif not frame.closable():
                raise self.fail("document ends inside a member", end)
            closer = _CLOSER[frame.opener]
            self.out.append(closer)
            self.repairs.append(f"added a missing {closer!r} at the end of the document")
        if self.nbsp_seen:
            self.repairs.insert(0, "treated non-breaking spaces (U+00A0) as whitespace")
