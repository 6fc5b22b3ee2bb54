"""The JSON repairer: what it repairs and says (line and column included), what it refuses, its budget and listing caps."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters._repair import MAX_DEPTH, RepairBudgetExceeded, UnrepairableJSON, repair_json

UNLIMITED = 10**9


def _line_col(text: str, position: int) -> tuple[int, int]:
    """Line and column counted the obvious way, from the start (the reference the repairer must agree with)."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


@dataclass
class _Broken:
    """A document rendered with malformations drawn as it is written, and the repairs they call for."""

    draw: Any
    parts: list[str] = field(default_factory=list)
    expected: list[tuple[str, int]] = field(default_factory=list)  # (repair without its position, position)
    nbsp: bool = False
    pending: str | None = None  # a missing ',' to note at the next token

    @property
    def size(self) -> int:
        return sum(map(len, self.parts))

    def space(self) -> None:
        gaps = [" ", "\n", "\n  ", "\t", "\r\n", "\u00a0\u00a0"]
        gap = self.draw(st.sampled_from(gaps if self.pending else ["", *gaps]))  # 1 2 must not read as 12
        self.nbsp = self.nbsp or "\u00a0" in gap
        self.parts.append(gap)

    def token(self, text: str) -> None:
        self.space()
        if self.pending is not None:
            self.expected.append((self.pending, self.size))
            self.pending = None
        self.parts.append(text)

    def render(self, value: Any) -> None:
        if isinstance(value, (list, dict)):
            self.container(value)
        else:
            self.token(json.dumps(value))

    def container(self, value: list[Any] | dict[str, Any]) -> None:
        opener, closer = ("{", "}") if isinstance(value, dict) else ("[", "]")
        self.token(opener)
        items = list(value.items()) if isinstance(value, dict) else [(None, item) for item in value]
        for index, (key, item) in enumerate(items):
            if index and self.draw(st.booleans()):
                self.token(",")
            elif index:
                first = json.dumps(key) if key is not None else _first_token(item)
                shown = first if len(first) <= 40 else first[:37] + "..."
                self.pending = f"inserted a missing ',' before {shown}"
            if key is not None:
                self.token(json.dumps(key))
                self.token(":")
            self.render(item)
        if items and self.draw(st.booleans()):
            self.space()
            self.expected.append(("removed a trailing ','", self.size))
            self.parts.append(",")
        self.token(closer)

    def repairs(self, text: str) -> list[str]:
        described = [f"{what} at line {line} column {column}"
                     for what, position in self.expected for line, column in [_line_col(text, position)]]
        return (["treated non-breaking spaces (U+00A0) as whitespace"] if self.nbsp else []) + described


def _first_token(value: Any) -> str:
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    return json.dumps(value)


_SCALARS = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=50)
_DOCUMENTS = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@given(st.one_of(st.lists(_DOCUMENTS, max_size=6), st.dictionaries(st.text(max_size=8), _DOCUMENTS, max_size=6)),
       st.data())
def test_missing_and_trailing_commas_are_repaired_where_they_are(document: Any, data: st.DataObject) -> None:
    """Any document with commas dropped and trailing ones added comes back equal, each repair at its line and column."""
    broken = _Broken(data.draw)
    broken.render(document)
    text = "".join(broken.parts)
    repaired = repair_json(text, max_repairs=UNLIMITED, listed=UNLIMITED)
    assert json.loads(repaired.text) == document
    assert repaired.repairs == broken.repairs(text)
    assert repaired.count == len(repaired.repairs)


@pytest.mark.parametrize(("text", "closed", "added"), [
    ('{"a": [1, 2', '{"a":[1,2]}', ["']'", "'}'"]),
    ('[{"a": 1},', '[{"a":1}]', ["']'"]),
    ('{"a": {"b": true', '{"a":{"b":true}}', ["'}'", "'}'"]),
])
def test_containers_left_open_are_closed_at_the_end(text: str, closed: str, added: list[str]) -> None:
    """Each container still open at the end is closed, innermost first, each closing one repair."""
    repaired = repair_json(text)
    assert repaired.text == closed
    assert [r for r in repaired.repairs if r.startswith("added")] == [
        f"added a missing {closer} at the end of the document" for closer in added]


@pytest.mark.parametrize(("text", "message", "line", "column"), [
    ('{"a" 1}', "expected ':'", 1, 6),
    ('{\n  "a": "b\n}', "unexpected character '\"'", 2, 8),
    ('[1, 2]\n\n  3', "unexpected data after the end of the document", 3, 3),
    ('{"a": 1, 2}', "expected a member name", 1, 10),
    ("[1, nope]", "unexpected character 'n'", 1, 5),
    ('{"a": }', "unexpected '}'", 1, 7),
    ("  \n ", "empty document", 2, 2),
    ('{"a"', "document ends inside a member", 1, 5),
])
def test_what_is_not_guessed_at_is_refused_with_its_position(text: str, message: str, line: int, column: int) -> None:
    """A malformation other than the known ones raises, naming line and column."""
    with pytest.raises(UnrepairableJSON) as caught:
        repair_json(text)
    assert str(caught.value) == f"{message} at line {line} column {column} (char {caught.value.position})"
    assert _line_col(text, caught.value.position) == (line, column)


def test_only_the_first_repairs_are_listed_then_the_rest_counted() -> None:
    """Past ``listed``, one line says how many more there were; ``count`` has them all."""
    text = "[" + " 1" * 100 + "]"
    repaired = repair_json(text, listed=3)
    assert repaired.count == 99
    assert repaired.repairs == [
        "inserted a missing ',' before 1 at line 1 column 5",
        "inserted a missing ',' before 1 at line 1 column 7",
        "inserted a missing ',' before 1 at line 1 column 9",
        "96 more repairs not listed (99 in all)",
    ]
    assert json.loads(repaired.text) == [1] * 100


def test_the_non_breaking_space_note_stays_first_within_the_listing() -> None:
    """The U+00A0 note leads the list even when first met after other repairs; it counts as one repair."""
    repaired = repair_json("[1 2 3\u00a0]", listed=2)
    assert repaired.repairs == ["treated non-breaking spaces (U+00A0) as whitespace",
                                "inserted a missing ',' before 2 at line 1 column 4", "1 more repair not listed (3 in all)"]


def test_past_the_budget_the_text_is_refused_where_it_ran_out() -> None:
    """``max_repairs`` repairs are made; one more raises RepairBudgetExceeded at the repair that passed it."""
    text = "[" + "\n1" * 11
    assert repair_json(text, max_repairs=11).count == 11  # 10 commas and the closing ']'
    with pytest.raises(RepairBudgetExceeded) as caught:
        repair_json(text, max_repairs=10)
    assert str(caught.value) == f"the repair budget of 10 repairs is exceeded at line 12 column 2 (char {len(text)})"
    with pytest.raises(RepairBudgetExceeded) as caught:
        repair_json(text, max_repairs=5)
    assert str(caught.value) == "the repair budget of 5 repairs is exceeded at line 8 column 1 (char 14)"
    assert caught.value.max_repairs == 5


def test_no_repair_at_all_with_a_budget_of_zero() -> None:
    """``max_repairs = 0`` refuses every repair, yet a text needing none passes (as msgspec would have)."""
    assert repair_json('{"a": [1]}', max_repairs=0).text == '{"a":[1]}'
    with pytest.raises(RepairBudgetExceeded):
        repair_json("[1 2]", max_repairs=0)


def test_nesting_deeper_than_the_decoder_reads_is_refused() -> None:
    """The repairer keeps no more open containers than msgspec could read back."""
    assert repair_json("[" * MAX_DEPTH, max_repairs=UNLIMITED).count == MAX_DEPTH
    with pytest.raises(UnrepairableJSON, match=f"nested more than {MAX_DEPTH} deep at line 1 column {MAX_DEPTH + 1}"):
        repair_json("[" * (MAX_DEPTH + 1), max_repairs=UNLIMITED)


def test_long_tokens_are_shown_cut_short() -> None:
    """A repair names the token it stands before, at most 40 characters of it."""
    long = '"' + "x" * 60 + '"'
    assert repair_json(f"[1 {long}]").repairs == [f"inserted a missing ',' before {long[:37]}... at line 1 column 4"]


def test_strings_with_escapes_are_one_token() -> None:
    """Escapes, quotes and brackets inside strings are not structure."""
    text = r'["a\"b\\" "[{,}]" "\u00e9\n"]'
    assert json.loads(repair_json(text).text) == ['a"b\\', "[{,}]", "\u00e9\n"]


class _CountingText(str):
    """A text that counts the characters its ``count`` and ``rfind`` scan: where a quadratic repair would hide."""

    scanned = 0

    def count(self, sub: str, start: Any = None, end: Any = None) -> int:
        self.scanned += _span(len(self), start, end)
        return super().count(sub, start, end)

    def rfind(self, sub: str, start: Any = None, end: Any = None) -> int:
        self.scanned += _span(len(self), start, end)
        return super().rfind(sub, start, end)


def _span(size: int, start: int | None, end: int | None) -> int:
    return max(0, (size if end is None else end) - (start or 0))


class _AppendOnly(list[str]):
    """The repairer's output: growing it and blanking an element are O(1); deleting or inserting would move the rest."""

    def __delitem__(self, index: Any) -> None:
        raise AssertionError("an element of the output was deleted")

    def insert(self, index: Any, value: str) -> None:
        raise AssertionError("an element was inserted into the output")


_MALFORMED = {
    "missing commas": lambda k: "[" + " 1" * k + "]",
    "missing commas, one a line": lambda k: "[" + "\n1" * k + "]",
    "trailing commas": lambda k: "[" + "\n[1,]," * k + "1]",
    "all of them, left open": lambda k: "{" + '\n"a": [1 2 3,],' * k,
    "non-breaking spaces": lambda k: "[" + "\u00a0\n1," * k + "1]",
}


def _work(text: str) -> tuple[int, int]:
    """Lines of the repairer run and characters scanned for line numbers, repairing ``text``."""
    import sys

    from adapters import _repair

    counted = _CountingText(text)
    repairer = _repair._Repairer(counted, UNLIMITED, 20)
    repairer.out = _AppendOnly()
    lines = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal lines
        if frame.f_code.co_filename == _repair.__file__:
            lines += event == "line"
            return trace
        return None

    sys.settrace(trace)
    try:
        repairer.run()
    finally:
        sys.settrace(None)
    return lines, counted.scanned


@pytest.mark.parametrize("build", _MALFORMED.values(), ids=list(_MALFORMED))
def test_repair_work_grows_linearly_whatever_the_malformation(build: Any) -> None:
    """Four times the text costs at most four times the steps, and line numbers never rescan the text."""
    small, large = build(2_000), build(8_000)
    small_lines, small_scanned = _work(small)
    large_lines, large_scanned = _work(large)
    assert large_lines <= 4.1 * small_lines, (small_lines, large_lines)
    assert small_scanned <= len(small) and large_scanned <= len(large)
