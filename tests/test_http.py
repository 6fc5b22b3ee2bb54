"""Every answer the webhook endpoint gives, one test per status, against the real server."""

from __future__ import annotations

import base64
import socket
import time
from pathlib import Path

import httpx

from tests.conftest import BASIC, MAX_BODY_BYTES, ROTATED_TOKEN, TOKEN, GatewayProcess
from tests.faults.rig import unique_booking

PICKTIME = Path(__file__).parent / "adapters" / "testdata" / "picktime"
PROBLEM = "application/problem+json"


def _sample(name: str) -> bytes:
    return (PICKTIME / f"{name}.json").read_bytes()


def _assert_problem(response: httpx.Response, status: int, problem: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    document: dict[str, object] = response.json()
    assert document["status"] == status
    assert document["type"] == f"urn:booking-gateway:problem:{problem}"
    assert document["title"] and document["detail"]
    return document


def test_healthz_is_alive(client: httpx.Client) -> None:
    """/healthz answers 200 while the process runs."""
    assert client.get("/healthz").json() == {"status": "alive"}


def test_readyz_reports_broker_and_topics(client: httpx.Client) -> None:
    """/readyz is 200 when the broker answers and the three topics exist."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["missing_topics"] == []


def test_202_with_bearer_token(client: httpx.Client) -> None:
    """A valid bearer token and a good body get 202 with the delivery and event ids."""
    response = client.post("/webhooks/picktime", content=unique_booking("bearer", 1),
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202
    body = response.json()
    assert body["delivery_id"] and len(body["events"]) == 1


def test_202_with_query_token_and_rotated_secret(client: httpx.Client) -> None:
    """The second of two configured tokens works, passed as ?token=."""
    # Not a golden sample: test_vendors_http posts those to this source, and a repeat is a duplicate.
    response = client.post(f"/webhooks/picktime/picktime?token={ROTATED_TOKEN}", content=unique_booking("rotated", 1))
    assert response.status_code == 202


def test_202_with_basic_credentials(client: httpx.Client) -> None:
    """A source with auth = basic accepts the configured user:password."""
    credentials = base64.b64encode(BASIC.encode()).decode()
    response = client.post("/webhooks/picktime/picktime-basic", content=_sample("seed_class_session_updated"),
                           headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 202


def test_401_missing_token(client: httpx.Client) -> None:
    """No credentials at all: 401 problem."""
    _assert_problem(client.post("/webhooks/picktime", content=b"{}"), 401, "unauthenticated")


def test_401_wrong_token(client: httpx.Client) -> None:
    """A wrong token: 401 problem, whatever the body."""
    response = client.post("/webhooks/picktime?token=nope", content=_sample("seed_service_created"))
    _assert_problem(response, 401, "unauthenticated")


def test_401_wrong_basic_password(client: httpx.Client) -> None:
    """Wrong Basic credentials: 401 with a WWW-Authenticate challenge when none were sent."""
    response = client.post("/webhooks/picktime/picktime-basic", content=b"{}", auth=("vendor", "wrong"))
    _assert_problem(response, 401, "unauthenticated")
    assert "www-authenticate" in client.post("/webhooks/picktime/picktime-basic", content=b"{}").headers


def test_404_unknown_provider(client: httpx.Client) -> None:
    """A provider nobody configured: 404 problem."""
    _assert_problem(client.post("/webhooks/nosuchvendor", content=b"{}"), 404, "unknown-source")


def test_404_unknown_source(client: httpx.Client) -> None:
    """A known provider with an unknown source id: 404 problem."""
    _assert_problem(client.post("/webhooks/picktime/other", content=b"{}"), 404, "unknown-source")


def test_404_unknown_path_is_a_problem_too(client: httpx.Client) -> None:
    """Paths outside the webhook routes also answer problem+json."""
    _assert_problem(client.get("/nothing-here"), 404, "not-found")


def test_405_wrong_method(client: httpx.Client) -> None:
    """GET on a webhook URL: 405 problem."""
    _assert_problem(client.get("/webhooks/picktime"), 405, "method-not-allowed")


def test_413_declared_length_over_limit(client: httpx.Client) -> None:
    """A Content-Length over max_body_bytes is refused before reading."""
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = client.post(f"/webhooks/picktime?token={TOKEN}", content=body)
    document = _assert_problem(response, 413, "body-too-large")
    assert document["max_body_bytes"] == MAX_BODY_BYTES


def test_413_streamed_body_is_cut_off(gateway: GatewayProcess) -> None:
    """A chunked body without Content-Length is refused once it passes the limit, before the end is sent."""
    host, port = gateway.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /webhooks/picktime?token={TOKEN} HTTP/1.1\r\nHost: x\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"x" * 16384
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        # The terminating chunk is never sent: the answer must come without it.
        answer = conn.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert PROBLEM in answer


def test_a_sender_that_hangs_up_mid_body_is_logged_not_answered(gateway: GatewayProcess) -> None:
    """A body cut off by the sender's disconnect: nothing published, one 'client-gone' line, the server fine."""
    host, port = gateway.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /webhooks/picktime/picktime-e2e?token={TOKEN} HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 500\r\n\r\n{\"dataObject\":".encode())
        time.sleep(0.2)  # not a wait for anything: the server is to see the partial body before the hang-up
    gateway.wait_for_log(lambda line: line.get("outcome") == "client-gone" and line.get("source") == "picktime-e2e",
                         "outcome 'client-gone' from source picktime-e2e")
    assert httpx.get(gateway.base_url + "/healthz").status_code == 200


def test_422_unrepairable_body(client: httpx.Client) -> None:
    """An authenticated body that cannot be repaired: 422 naming the reason and position."""
    response = client.post(f"/webhooks/picktime?token={TOKEN}", content=b'{"dataObject" {"a": 1}}')
    document = _assert_problem(response, 422, "unprocessable-payload")
    assert document["reason"] == "malformed-json"
    assert "position" in document and document["delivery_id"]


def test_422_body_that_maps_to_nothing_known(client: httpx.Client) -> None:
    """A well-formed body of an unknown Picktime type: 422 unsupported-event."""
    body = b'{"dataObject":{"event_id":"x","event_type":"appointment"},"type":"ARCHIVE"}'
    document = _assert_problem(client.post(f"/webhooks/picktime?token={TOKEN}", content=body), 422,
                               "unprocessable-payload")
    assert document["reason"] == "unsupported-event"


def test_400_nonnumeric_content_length(gateway: GatewayProcess) -> None:
    """A Content-Length that is not a number gets a 400 (from the server or the gateway), never a 500."""
    host, port = gateway.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /webhooks/picktime?token={TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".encode())
        answer = conn.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 400"), answer[:200]


def _metric_values(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").text
    return {series: float(value) for series, value in
            (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))}


def test_metrics_count_outcomes_events_and_broker_acks(client: httpx.Client) -> None:
    """/metrics moves with traffic: outcomes by source, events by type, dead letters, duplicates, broker acks."""
    before = _metric_values(client)
    body = unique_booking("metrics", 1)
    assert client.post(f"/webhooks/picktime?token={TOKEN}", content=body).status_code == 202
    assert client.post(f"/webhooks/picktime?token={TOKEN}", content=body).status_code == 200
    assert client.post("/webhooks/picktime?token=wrong", content=body).status_code == 401
    assert client.post(f"/webhooks/picktime?token={TOKEN}", content=b'{"dataObject" {').status_code == 422
    after = _metric_values(client)

    def moved(name: str, **labels: str) -> float:
        series = name + ("{" + ",".join(f'{key}="{labels[key]}"' for key in sorted(labels)) + "}" if labels else "")
        return after.get(series, 0.0) - before.get(series, 0.0)

    source = {"provider": "picktime", "source": "picktime"}
    assert moved("gateway_requests_total", **source, outcome="accepted") == 1
    assert moved("gateway_requests_total", **source, outcome="duplicate") == 1
    assert moved("gateway_requests_total", **source, outcome="unauthenticated") == 1
    assert moved("gateway_requests_total", **source, outcome="unprocessable-payload") == 1
    assert moved("gateway_request_duration_seconds_count", **source) == 4
    assert moved("gateway_canonical_events_total", provider="picktime", type="booking.created") == 1
    assert moved("gateway_dead_letters_total", **source, reason="malformed-json") == 1
    assert moved("gateway_duplicates_total", **source) == 1
    assert moved("gateway_broker_ack_seconds_count") >= 1, "every acknowledged batch is timed"
    assert after["gateway_broker_up"] == 1
