"""``gateway sign``: every header the vendor sends, signature included, ready for ``curl -H @-``."""

from __future__ import annotations

import time

import pytest

from adapters import ADAPTERS
from adapters.base import SchemeSettings
from adapters.schedulingkit import SchedulingKitSignature
from adapters.signatures import StandardWebhooks
from adapters.square import SquareSignature
from adapters.zoom import ZoomSignature
from tests.adapters.golden import golden_cases
from tests.commands import TESTDATA, run_gateway

SAMPLE = TESTDATA / "schedulingkit" / "seed_booking_created.json"


def _headers(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines())


def test_schedulingkit_headers_are_those_it_sends_with_a_new_delivery_each_time() -> None:
    first, second = (run_gateway("sign", "--provider", "schedulingkit", "--secret", "sk", str(SAMPLE)) for _ in "ab")
    assert first.returncode == second.returncode == 0, first.stderr
    headers, again = _headers(first.stdout), _headers(second.stdout)
    assert set(headers) == {"x-webhook-signature", "x-webhook-event", "x-webhook-delivery-id"}
    assert headers["x-webhook-event"] == "booking.created"
    assert headers["x-webhook-delivery-id"] != again["x-webhook-delivery-id"], "two runs are two deliveries"
    scheme = SchedulingKitSignature(SchemeSettings(secrets=(b"sk",), tolerance_s=300))
    scheme.verify(SAMPLE.read_bytes(), headers, time.time())


def test_a_vendor_without_a_signature_scheme_is_refused_with_the_ones_that_have_one() -> None:
    done = run_gateway("sign", "--provider", "picktime", "--secret", "x", str(SAMPLE))
    assert done.returncode == 2
    assert "schedulingkit" in done.stderr and "timekit" in done.stderr


def test_square_needs_the_notification_url_and_signs_it() -> None:
    """Square signs its URL: without --notification-url, a usage error; with it, a signature over URL + body."""
    sample = TESTDATA / "square" / "seed_booking_updated.json"
    refused = run_gateway("sign", "--provider", "square", "--secret", "sq", str(sample))
    assert refused.returncode == 2 and "--notification-url" in refused.stderr
    url = "https://hooks.example.com/webhooks/square"
    done = run_gateway("sign", "--provider", "square", "--secret", "sq", "--notification-url", url, str(sample))
    assert done.returncode == 0, done.stderr
    SquareSignature(SchemeSettings(secrets=(b"sq",), notification_url=url)).verify(
        sample.read_bytes(), _headers(done.stdout), time.time())


def test_zoom_headers_carry_the_signature_and_its_timestamp() -> None:
    """Zoom's x-zm-signature is over the x-zm-request-timestamp printed beside it."""
    sample = TESTDATA / "zoom" / "variant_scheduled_event_created.json"
    done = run_gateway("sign", "--provider", "zoom", "--secret", "zt", str(sample))
    assert done.returncode == 0, done.stderr
    headers = _headers(done.stdout)
    assert set(headers) == {"x-zm-signature", "x-zm-request-timestamp"}
    ZoomSignature(SchemeSettings(secrets=(b"zt",))).verify(sample.read_bytes(), headers, time.time())


@pytest.mark.parametrize("vendor", sorted(name for name, adapter in ADAPTERS.items() if adapter.signature is not None))
def test_every_signing_vendors_headers_verify(vendor: str) -> None:
    """For each registered vendor with a signature, what ``gateway sign`` prints verifies as that vendor's scheme."""
    adapter = ADAPTERS[vendor]
    assert adapter.signature is not None
    url = f"https://hooks.example.com/webhooks/{vendor}" if adapter.needs_notification_url else None
    seed = next(case for case in golden_cases(vendor) if case.name.startswith("seed_")).body_path
    done = run_gateway("sign", "--provider", vendor, "--secret", "s3", *(["--notification-url", url] if url else []),
                       str(seed))
    assert done.returncode == 0, done.stderr
    scheme = adapter.signature(SchemeSettings(secrets=(b"s3",), notification_url=url))
    scheme.verify(seed.read_bytes(), _headers(done.stdout), time.time())


def test_standard_webhooks_headers_verify_with_the_configured_secret() -> None:
    """``--scheme standard-webhooks`` prints webhook-id, -timestamp and a v1 signature that the scheme accepts."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    done = run_gateway("sign", "--scheme", "standard-webhooks", "--secret", secret, str(SAMPLE))
    assert done.returncode == 0, done.stderr
    headers = _headers(done.stdout)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    StandardWebhooks()(SchemeSettings(secrets=(secret.encode(),))).verify(SAMPLE.read_bytes(), headers, time.time())


def test_a_secret_the_scheme_cannot_read_is_a_usage_error() -> None:
    """A raw key where ``whsec_<base64>`` belongs: exit 2 saying so, no traceback."""
    done = run_gateway("sign", "--scheme", "standard-webhooks", "--secret", "raw", str(SAMPLE))
    assert done.returncode == 2 and "whsec_" in done.stderr and "Traceback" not in done.stderr
