"""The registry is the one list of vendors: every suite, the dev config and the README's table follow it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from adapters import ADAPTERS
from adapters.base import Adapter
from gateway.commands.dev import bundled_dev_config
from gateway.config import SourceSettings
from tests import test_fuzz_http, test_vendors_http
from tests.adapters.golden import ALL_CASES
from tests.conftest import ROOT, TEST_TIMEZONE, gateway_config

VENDORS = set(ADAPTERS)


def _dev_source(name: str, adapter: Adapter) -> SourceSettings:
    kind = "secret" if adapter.default_auth == "hmac" else "token"
    url = f"http://127.0.0.1:8080/webhooks/{name}" if adapter.needs_notification_url else None
    return SourceSettings(id=name, provider=name, auth=adapter.default_auth, secret=f"dev-{name}-{kind}",
                          timezone=TEST_TIMEZONE if adapter.needs_timezone else None, notification_url=url)


def test_a_registered_vendor_is_in_the_golden_http_and_fuzz_suites() -> None:
    """Registering a vendor is enough to put it through the golden, HTTP and fuzz suites and their sources."""
    assert {case.vendor for case in ALL_CASES} == VENDORS  # test_golden's parametrization
    assert {case.vendor for case in test_vendors_http.CASES} == VENDORS
    assert set(test_vendors_http.SIGNING) | set(test_vendors_http.TOKENS) == VENDORS
    assert set(test_fuzz_http.VENDORS) == VENDORS
    sources = {source["id"]: source for source in tomllib.loads(gateway_config("x:1", 1, Path("spool")))["sources"]}
    for vendor in VENDORS:
        for source_id in (vendor, f"{vendor}-fuzz"):
            assert sources[source_id]["provider"] == vendor
            assert sources[source_id]["auth"] == ADAPTERS[vendor].default_auth


def test_dev_config_has_one_source_per_vendor_as_the_registry_declares() -> None:
    """gateway dev serves each registered vendor at /webhooks/<vendor> with dev-<vendor>-secret (hmac) or -token."""
    wanted = [_dev_source(name, adapter) for name, adapter in sorted(ADAPTERS.items())]
    assert sorted(bundled_dev_config().sources, key=lambda source: source.id) == wanted


def _readme_vendor_rows() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Vendors\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip().lower(): [cell.strip() for cell in cells] for cells in rows[1:]}


def test_readme_vendor_table_lists_the_registry() -> None:
    """The README's vendor table has a row per registered vendor, its `auth` the vendor's default."""
    rows = _readme_vendor_rows()
    assert set(rows) == {adapter.spelled for adapter in ADAPTERS.values()}
    for adapter in ADAPTERS.values():
        assert rows[adapter.spelled][2].startswith(f"`{adapter.default_auth}`"), adapter.name


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_readme_has_a_section_per_vendor(vendor: str) -> None:
    """Each registered vendor has its ``### <Vendor>`` section under ``## Vendors``."""
    headings = re.findall(r"^### (.+?)\s*$", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    assert ADAPTERS[vendor].spelled in {heading.lower() for heading in headings}


def test_readme_opening_names_every_vendor() -> None:
    """The README's first paragraph, which says what the gateway is for, names every registered vendor."""
    opening = (ROOT / "README.md").read_text().split("\n\n", 2)[1].lower()
    assert all(adapter.spelled in opening for adapter in ADAPTERS.values())
