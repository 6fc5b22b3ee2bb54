"""Repairing the JSON malformations vendors really send, saying what was repaired.

Only for bodies msgspec has already refused. Repairs: a missing ``,`` between
members or elements, a trailing ``,`` before ``}`` or ``]``, containers left
open at the end of the input, and non-breaking spaces used as indentation.
Anything else (a missing ``:``, an unterminated string, a bare word) is not
guessed at: it raises ``UnrepairableJSON`` with the position.

The work is linear in the size of the text whatever it holds: one pass of
the tokenizer, each character counted once for line and column, no list
element ever moved. A sender still controls how many repairs there are, so
past ``max_repairs`` the text is refused (``RepairBudgetExceeded``), and
only the first ``listed`` repairs are described, then one line counting the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_LISTED_REPAIRS",
    "DEFAULT_MAX_REPAIRS",
    "MAX_DEPTH",
    "RepairBudgetExceeded",
    "Repaired",
    "UnrepairableJSON",
    "repair_json",
]

DEFAULT_MAX_REPAIRS = 1000
DEFAULT_LISTED_REPAIRS = 20
MAX_DEPTH = 1000
"""Deeper nesting is refused: msgspec's decoder could not read the repaired document either."""

# Every match is one token after optional whitespace; "bad" catches any other character, "end" the end.
_TOKEN = re.compile(
    r"""
    [ \t\r\n]*
    (?:
      (?P<punct>[{}\[\]:,])
    | (?P<string>"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*")
    | (?P<scalar>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)
    | (?P<nbsp>\u00a0+)
    | (?P<end>\Z)
    | (?P<bad>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_CLOSER = {"{": "}", "[": "]"}
_NBSP_NOTE = "treated non-breaking spaces (U+00A0) as whitespace"


class UnrepairableJSON(ValueError):
    """JSON broken in a way the repairer does not guess at."""

    def __init__(self, message: str, position: int, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line} column {column} (char {position})")
        self.position = position


class RepairBudgetExceeded(UnrepairableJSON):
    """JSON that would need more repairs than the budget allows: refused rather than rewritten at any cost."""

    def __init__(self, max_repairs: int, position: int, line: int, column: int) -> None:
        super().__init__(f"the repair budget of {max_repairs} repairs is exceeded", position, line, column)
        self.max_repairs = max_repairs


@dataclass
class Repaired:
    """The repaired document, its first repairs described in input order (then one counting the rest), and how many."""

    text: str
    repairs: list[str] = field(default_factory=list)
    count: int = 0


@dataclass(slots=True)
class _Frame:
    opener: str
    expect: str  # "key", "colon", "value", "next" (a ',' or the closer)
    after_comma: bool = False
    comma_index: int = -1
    comma_position: int = -1

    def closable(self) -> bool:
        """True unless a member is half written (a name without ':' or value)."""
        return self.expect != "colon" and not (self.expect == "value" and self.opener == "{")


class _Lines:
    """Line and column of positions in one text; asked in increasing order, it reads each character once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.line = 1
        self.line_start = 0

    def at(self, position: int) -> tuple[int, int]:
        if position < self.position:
            self.position, self.line, self.line_start = 0, 1, 0
        newlines = self.text.count("\n", self.position, position)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.position, position) + 1
        self.position = position
        return self.line, position - self.line_start + 1


class _RepairLog:
    """Counts every repair against the budget; describes only the first ``listed``."""

    def __init__(self, lines: _Lines, max_repairs: int, listed: int) -> None:
        self.lines = lines
        self.max_repairs = max_repairs
        self.listed = listed
        self.count = 0
        self.described: list[str] = []
        self.first: str | None = None

    def add(self, what: str, position: int | None) -> None:
        """Count one repair at ``position`` (None: at the end), describing it while the list has room."""
        self.count_one(position)
        if len(self.described) < self.listed:
            if position is not None:
                line, column = self.lines.at(position)
                what = f"{what} at line {line} column {column}"
            self.described.append(what)

    def add_first(self, what: str, position: int) -> None:
        """Count a repair made throughout the text, described before the others."""
        self.count_one(position)
        self.first = what

    def count_one(self, position: int | None) -> None:
        self.count += 1
        if self.count > self.max_repairs:
            at = len(self.lines.text) if position is None else position
            raise RepairBudgetExceeded(self.max_repairs, at, *self.lines.at(at))

    def repairs(self) -> list[str]:
        notes = ([self.first] if self.first is not None else []) + self.described
        if self.count <= self.listed:
            return notes
        rest = self.count - self.listed
        counted = f"{rest} more {'repair' if rest == 1 else 'repairs'} not listed ({self.count} in all)"
        return [*notes[: self.listed], counted]


def repair_json(text: str, *, max_repairs: int = DEFAULT_MAX_REPAIRS, listed: int = DEFAULT_LISTED_REPAIRS) -> Repaired:
    """Return ``text`` with the known malformations repaired, or raise UnrepairableJSON.

    More than ``max_repairs`` repairs raise RepairBudgetExceeded; only the
    first ``listed`` are described in ``Repaired.repairs``.
    """
    return _Repairer(text, max_repairs, listed).run()


class _Repairer:
    def __init__(self, text: str, max_repairs: int, listed: int) -> None:
        self.text = text
        self.lines = _Lines(text)
        self.log = _RepairLog(self.lines, max_repairs, listed)
        self.out: list[str] = []
        self.stack: list[_Frame] = []
        self.done = False
        self.nbsp_seen = False

    def fail(self, message: str, position: int) -> UnrepairableJSON:
        line, column = self.lines.at(position)
        return UnrepairableJSON(message, position, line, column)

    def run(self) -> Repaired:
        feed = self.feed
        for match in _TOKEN.finditer(self.text):
            kind = match.lastgroup or ""
            if kind == "end":
                break
            position = match.start(kind)
            if kind == "bad":
                raise self.fail(f"unexpected character {self.text[position]!r}", position)
            if kind == "nbsp":
                if not self.nbsp_seen:
                    self.nbsp_seen = True
                    self.log.add_first(_NBSP_NOTE, position)
                continue
            feed(kind, match[kind], position)
        self.finish(len(self.text))
        return Repaired("".join(self.out), self.log.repairs(), self.log.count)

    def feed(self, kind: str, token: str, position: int) -> None:
        if self.done:
            raise self.fail("unexpected data after the end of the document", position)
        frame = self.stack[-1] if self.stack else None
        if kind != "punct" or token in "{[":
            self.value(kind, token, frame, position)
        elif token == ",":
            self.comma(frame, position)
        elif token == ":":
            if frame is None or frame.expect != "colon":
                raise self.fail("unexpected ':'", position)
            self.out.append(":")
            frame.expect = "value"
        else:
            self.close(token, frame, position)

    def value(self, kind: str, token: str, frame: _Frame | None, position: int) -> None:
        if frame is not None and frame.expect == "next":
            self.out.append(",")
            shown = token if len(token) <= 40 else token[:37] + "..."
            self.log.add(f"inserted a missing ',' before {shown}", position)
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
        if kind == "punct":
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(f"nested more than {MAX_DEPTH} deep", position)
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
        self.out[frame.comma_index] = ""  # blanked, not deleted: deleting would move every later element
        self.log.add("removed a trailing ','", frame.comma_position)

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
            self.log.add(f"added a missing {closer!r} at the end of the document", None)
            self.value_done()  # the closed container was its parent's value
