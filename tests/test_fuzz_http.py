"""Fuzzing the whole HTTP path: any authenticated body becomes events or a dead-letter record, never a 500."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import ADAPTERS
from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.records import META_HEADER, DeliveryMeta
from tests.adapters.golden import golden_cases
from tests.conftest import TOPICS, GatewayProcess
from tests.kafka import Record, header, read_until
from tests.test_vendors_http import signed_headers, vendor_reply

VENDORS = sorted(ADAPTERS)
SAMPLES = [case.body_path.read_bytes() for vendor in VENDORS for case in golden_cases(vendor)
           if not case.name.startswith("error_")]


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    """A vendor sample with a slice cut out, bytes spliced in, or cut short."""
    body = draw(st.sampled_from(SAMPLES))
    start = draw(st.integers(0, len(body)))
    end = draw(st.integers(start, min(len(body), start + 40)))
    splice = draw(st.binary(max_size=12) | st.sampled_from([b",", b"}", b"]", b'"', b":", b"\\u0000", b"1e999"]))
    return body[:start] + splice + body[end:]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
BODIES = st.binary(max_size=1500) | mutated_sample() | json_values.map(msgspec.json.encode)


def test_authenticated_garbage_is_answered_and_kept(
    client: httpx.Client, broker: EmbeddedBroker, gateway: GatewayProcess
) -> None:
    """Every fuzzed body gets 200/202 with events or 422 with a dead-letter record; no 500, nothing unhandled."""
    dead_lettered: set[str] = set()
    statuses: set[int] = set()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(vendor=st.sampled_from(VENDORS), body=BODIES)
    def post(vendor: str, body: bytes) -> None:
        # Sources of its own: a mutated sample that keeps the vendor's delivery id is, rightly,
        # the same delivery, and must not stand in for the real sample in other tests.
        response = client.post(f"/webhooks/{vendor}/{vendor}-fuzz", content=body, headers=signed_headers(vendor, body))
        statuses.add(response.status_code)
        assert response.status_code in (200, 202, 422), response.text
        document = response.json()
        if response.status_code == 422:
            assert response.headers["content-type"] == "application/problem+json"
            dead_lettered.add(document["delivery_id"])
        elif vendor_reply(vendor, body) is not None:
            assert response.content == vendor_reply(vendor, body)
        else:
            assert isinstance(document["events"], list)

    post()
    assert 422 in statuses and statuses & {200, 202}

    def kept(records: list[Record]) -> set[str]:
        metas = (msgspec.json.decode(header(r, META_HEADER) or b"{}", type=DeliveryMeta) for r in records)
        return {meta.delivery_id for meta in metas}

    records = asyncio.run(read_until(broker.bootstrap_servers, TOPICS.dead_letter,
                                     lambda got: dead_lettered <= kept(got)))
    assert dead_lettered <= kept(records)
    assert "unhandled error" not in gateway.log_path.read_text()
