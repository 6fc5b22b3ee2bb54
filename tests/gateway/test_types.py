"""The outcome aliases: what they name is what the gateway says and what the README documents."""

from __future__ import annotations

from typing import get_args

from gateway.errors import GatewayError
from gateway.types import Outcome, Problem
from tests.conftest import ROOT


def _subclasses(cls: type[GatewayError]) -> list[type[GatewayError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]


def test_every_gateway_error_problem_is_a_problem_name() -> None:
    """Each GatewayError's problem is one of Problem's names, and each name but the edge's own is used."""
    used = {error.problem for error in _subclasses(GatewayError)}
    assert used <= set(get_args(Problem))
    assert set(get_args(Problem)) - used == {"client-gone", "internal-error"}


def test_the_runbook_names_every_request_outcome() -> None:
    """The README's log section lists every outcome a request line can carry (dead-lettered is the archive's)."""
    runbook = (ROOT / "README.md").read_text().split("## Operations runbook", 1)[1].split("**Metrics**", 1)[0]
    outcomes = {name for alias in get_args(Outcome) for name in (get_args(alias) or (alias,))} - {"dead-lettered"}
    assert {name for name in outcomes if f"`{name}`" not in runbook} == set()
