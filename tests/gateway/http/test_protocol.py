"""The HTTP edge against hostile clients, as raw sockets against a real ``gateway serve``: limits, timeouts, half-close."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config import ServerSettings, TopicSettings
from gateway.errors import GatewayError
from gateway.http.protocol import edge_protocol
from gateway.http.webhooks import content_length
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.conftest import TOKEN, GatewayProcess, gateway_config, start_gateway, stop_gateway
from tests.faults.rig import unique_booking
from tests.waiting import wait_for

HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 1.0
KEEP_ALIVE_TIMEOUT_S = 1.0
MAX_CONNECTIONS = 300
MAX_HEADER_BYTES = 65_536
PROBLEM = "application/problem+json"
WEBHOOK = f"/webhooks/picktime/picktime-e2e?token={TOKEN}"


@pytest.fixture(scope="module")
def edge(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A gateway with short read timeouts, default header limits and room for 300 connections."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))
    workdir = tmp_path_factory.mktemp("edge")
    config = gateway_config(broker.bootstrap_servers, free_port(), workdir / "spool").replace(
        "[kafka]", f"header_timeout_s = {HEADER_TIMEOUT_S}\nbody_timeout_s = {BODY_TIMEOUT_S}\n"
                   f"keep_alive_timeout_s = {KEEP_ALIVE_TIMEOUT_S}\nmax_connections = {MAX_CONNECTIONS}\n[kafka]", 1)
    running = start_gateway(config, workdir)
    yield running
    stop_gateway(running)


def _connect(gateway: GatewayProcess, timeout_s: float = 10) -> socket.socket:
    host, port = gateway.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout_s)


def _read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after its answer ends the read too)."""
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _exchange(gateway: GatewayProcess, request: bytes) -> bytes:
    with _connect(gateway) as conn:
        try:
            conn.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending: the answer is still to be read
        return _read_all(conn)


def _problem(answer: bytes, status: int, problem: str) -> dict[str, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:300]
    assert b"content-type: " + PROBLEM.encode() in head.lower(), head
    document: dict[str, object] = json.loads(body)
    assert document["status"] == status and document["type"] == f"urn:booking-gateway:problem:{problem}", document
    return document


def _post(headers: str = "", body: bytes = b"{}", path: str = WEBHOOK) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(body)}\r\n\r\n").encode() + body


def _vm_hwm_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def test_431_for_more_headers_than_max_header_count(edge: GatewayProcess) -> None:
    """101 small headers are refused 431 before the app; 100 reach it (here: 401, no credentials)."""
    many = "".join(f"X-H{n}: v\r\n" for n in range(100))
    document = _problem(_exchange(edge, _post(many, path="/webhooks/picktime/picktime-e2e")), 431, "headers-too-large")
    assert document["max_header_count"] == 100
    fewer = "".join(f"X-H{n}: v\r\n" for n in range(97))  # with Host and Content-Length: 99
    _problem(_exchange(edge, _post(fewer, path="/webhooks/picktime/picktime-e2e")), 401, "unauthenticated")


def test_20000_headers_on_an_authenticated_request_are_refused_not_archived(edge: GatewayProcess) -> None:
    """20,000 headers with a valid token: 431, and the request never reaches the app (no webhook line of its source)."""
    def app_lines() -> int:
        return sum(1 for line in edge.log_entries() if line.get("source") == "picktime-e2e")

    before = app_lines()
    headers = "".join(f"X-H{n}: v\r\n" for n in range(20_000))
    _problem(_exchange(edge, _post(headers, unique_booking("edge-many-headers", 1))), 431, "headers-too-large")
    edge.wait_for_log(lambda line: line.get("outcome") == "headers-too-large" and line.get("status") == 431,
                      "outcome 'headers-too-large'")
    assert app_lines() == before
    metrics = _exchange(edge, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").decode()
    assert 'gateway_requests_total{outcome="headers-too-large",provider="unknown",source="unknown"}' in metrics


def test_431_for_a_head_over_max_header_bytes(edge: GatewayProcess) -> None:
    """One header value past max_header_bytes: 431 naming the limit; a head just under it is served."""
    document = _problem(_exchange(edge, _post(f"X-Big: {'a' * MAX_HEADER_BYTES}\r\n")), 431, "headers-too-large")
    assert document["max_header_bytes"] == MAX_HEADER_BYTES
    answer = _exchange(edge, _post(f"X-Big: {'a' * (MAX_HEADER_BYTES - 200)}\r\nConnection: close\r\n",
                                   unique_booking("edge-big-head", 1)))
    assert answer.startswith(b"HTTP/1.1 202 "), answer[:300]


def _chunked(body: bytes, size: int) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))


def test_a_chunked_body_of_many_chunks_is_not_a_head(edge: GatewayProcess) -> None:
    """Hundreds of small chunks in reads past max_header_bytes are body, not head: served 202."""
    booking = unique_booking("edge-chunks", 1)
    body = booking[:-1] + b" " * 60_000 + b"}"
    head = f"POST {WEBHOOK} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    answer = _exchange(edge, head.encode() + _chunked(body, 100) + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 202 "), answer[:300]


def test_431_for_trailers_over_max_header_bytes(edge: GatewayProcess) -> None:
    """Trailers after a chunked body are held to the head's byte budget (give or take the read they begin in): 431."""
    head = f"POST {WEBHOOK} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    trailers = "".join(f"X-T{n}: {'v' * 50}\r\n" for n in range(10_000))
    answer = _exchange(edge, head.encode() + _chunked(b"{}", 1) + b"0\r\n" + trailers.encode() + b"\r\n")
    _problem(answer, 431, "headers-too-large")


def test_a_64_mib_header_is_refused_with_bounded_memory(edge: GatewayProcess) -> None:
    """Eight senders of a 64 MiB header at once: each, still sending, reads its 431; peak RSS grows by under 32 MiB."""
    before = _vm_hwm_bytes(edge.process.pid)
    chunk = b"a" * (1 << 20)
    answers: list[bytes] = []

    def send() -> None:
        with _connect(edge) as conn:
            try:
                conn.sendall(b"POST /webhooks/picktime HTTP/1.1\r\nHost: x\r\nX-Big: ")
                for _ in range(64):
                    conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answers.append(_read_all(conn))

    senders = [threading.Thread(target=send) for _ in range(8)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    grown = _vm_hwm_bytes(edge.process.pid) - before
    assert grown < 32 << 20, f"peak RSS grew by {grown / (1 << 20):.1f} MiB"
    assert all(answer.startswith(b"HTTP/1.1 431 ") for answer in answers), [answer[:80] for answer in answers]


def test_408_when_the_headers_stop_coming(edge: GatewayProcess) -> None:
    """Half a request head, then nothing: 408 problem after header_timeout_s, then the connection is closed."""
    with _connect(edge) as conn:
        started = time.monotonic()
        conn.sendall(b"POST /webhooks/picktime HTTP/1.1\r\nHost: x\r\nX-Half: ")
        answer = _read_all(conn)
        elapsed = time.monotonic() - started
    document = _problem(answer, 408, "request-timeout")
    assert document["header_timeout_s"] == HEADER_TIMEOUT_S
    assert HEADER_TIMEOUT_S - 0.2 < elapsed < HEADER_TIMEOUT_S + 3, elapsed


def test_a_silent_connection_is_closed_after_the_header_timeout(edge: GatewayProcess) -> None:
    """A connection that never sends a byte is answered 408 and closed, not held."""
    with _connect(edge) as conn:
        started = time.monotonic()
        answer = _read_all(conn)
    _problem(answer, 408, "request-timeout")
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 3


def test_408_when_the_body_stops_coming(edge: GatewayProcess) -> None:
    """Content-Length: 999 and one byte: the app answers 408 after body_timeout_s, logs it, and closes."""
    with _connect(edge) as conn:
        started = time.monotonic()
        conn.sendall(f"POST {WEBHOOK} HTTP/1.1\r\nHost: x\r\nContent-Length: 999\r\n\r\n{{".encode())
        answer = _read_all(conn)
        elapsed = time.monotonic() - started
    document = _problem(answer, 408, "request-timeout")
    assert document["body_timeout_s"] == BODY_TIMEOUT_S
    assert b"connection: close" in answer.lower()
    assert BODY_TIMEOUT_S - 0.2 < elapsed < BODY_TIMEOUT_S + 3, elapsed
    edge.wait_for_log(lambda line: line.get("source") == "picktime-e2e" and line.get("outcome") == "request-timeout",
                      "outcome 'request-timeout' from source picktime-e2e")


def test_an_idle_keep_alive_connection_is_closed(edge: GatewayProcess) -> None:
    """After an answer, a connection that sends nothing more is closed after keep_alive_timeout_s."""
    with _connect(edge) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = _read_all(conn)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert KEEP_ALIVE_TIMEOUT_S - 0.2 < time.monotonic() - started < KEEP_ALIVE_TIMEOUT_S + 3


def test_200_slowloris_connections_do_not_delay_normal_senders(edge: GatewayProcess) -> None:
    """200 sockets dripping a head byte by byte: webhooks meanwhile are answered promptly; every drip gets 408."""
    slow = [_connect(edge) for _ in range(200)]
    stop = threading.Event()

    def drip() -> None:
        for conn in slow:
            conn.sendall(b"POST /webhooks/picktime HTTP/1.1\r\nHost: x\r\n")
        while not stop.wait(0.1):
            for conn in slow:
                try:
                    conn.sendall(b"X")
                except OSError:
                    pass

    dripping = threading.Thread(target=drip)
    dripping.start()
    try:
        times = []
        for number in range(20):
            started = time.monotonic()
            answer = _exchange(edge, _post("Connection: close\r\n", unique_booking("edge-slowloris", number)))
            times.append(time.monotonic() - started)
            assert answer.startswith(b"HTTP/1.1 202 "), answer[:300]
        readable, _, _ = select.select(slow, [], [], 0)
        assert not readable, "slowloris connections were cut before the normal requests were done"
        assert max(times) < 1.0, f"slowest normal request {max(times):.3f} s while 200 slowloris connections held"
        stop.set()
        dripping.join()
        for conn in slow:
            _problem(_read_all(conn), 408, "request-timeout")
    finally:
        stop.set()
        dripping.join()
        for conn in slow:
            conn.close()


def test_connections_over_max_connections_get_503(edge: GatewayProcess) -> None:
    """Past max_connections, a new connection is answered 503 too-many-connections; once they close, all is served."""
    held = [_connect(edge) for _ in range(MAX_CONNECTIONS + 10)]
    try:
        def ten_answered() -> list[socket.socket]:
            readable = select.select(held, [], [], 0.1)[0]
            return readable if len(readable) >= 10 else []

        answers = [_read_all(conn) for conn in wait_for(ten_answered, "ten connections past the limit answered")]
        refused = [answer for answer in answers if answer.startswith(b"HTTP/1.1 503 ")]
        assert len(refused) >= 10, [answer[:20] for answer in answers]
        document = _problem(refused[0], 503, "too-many-connections")
        assert document["max_connections"] == MAX_CONNECTIONS
    finally:
        for conn in held:
            conn.close()
    wait_for(lambda: _exchange(edge, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
             .startswith(b"HTTP/1.1 200 "), "a new connection to be served once the held ones closed")


def test_a_half_closed_sender_gets_its_answer(edge: GatewayProcess) -> None:
    """The whole request, then shutdown(SHUT_WR): the webhook is answered 202, then the connection is closed."""
    with _connect(edge) as conn:
        conn.sendall(_post(body=unique_booking("edge-half-closed", 1)))
        conn.shutdown(socket.SHUT_WR)
        answer = _read_all(conn)
    assert answer.startswith(b"HTTP/1.1 202 "), answer[:300]
    assert b'"events":["' in answer


def test_a_half_closed_sender_mid_body_is_not_waited_for(edge: GatewayProcess) -> None:
    """Half a body, then shutdown(SHUT_WR): nothing more can come, so the connection closes without waiting."""
    with _connect(edge) as conn:
        conn.sendall(f"POST {WEBHOOK} HTTP/1.1\r\nHost: x\r\nContent-Length: 999\r\n\r\n{{".encode())
        conn.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        assert _read_all(conn) == b""
    assert time.monotonic() - started < BODY_TIMEOUT_S


def test_400_problem_for_a_content_length_of_non_ascii_digits(edge: GatewayProcess) -> None:
    """Content-Length "\\xb2" (a digit to str.isdigit) is a 400 problem document, never a 500."""
    request = b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n"
    _problem(_exchange(edge, request), 400, "bad-request")


def test_400_problem_for_what_is_not_http(edge: GatewayProcess) -> None:
    """Bytes the parser refuses get a 400 problem document and a closed connection."""
    _problem(_exchange(edge, b"\x16\x03\x01 not http\r\n\r\n"), 400, "bad-request")


def test_an_upgrade_request_is_answered_as_plain_http_and_closed(edge: GatewayProcess) -> None:
    """Connection: Upgrade is not served (no websockets): the request gets its answer, then the connection closes."""
    answer = _exchange(edge, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


@pytest.mark.parametrize("value", ["\xb2", "\u0663", "1_0", "+5", "-1", "0x10", "", " "])
def test_content_length_takes_ascii_digits_only(value: str) -> None:
    """What str.isdigit or int() would take but HTTP does not is the sender's 400."""
    with pytest.raises(GatewayError) as refused:
        content_length(value)
    assert refused.value.status_code == 400


def test_content_length_ignores_surrounding_whitespace() -> None:
    """Optional whitespace around the value is not part of it (RFC 9110 5.5)."""
    assert content_length(" 42\t") == 42


class _Transport(asyncio.Transport):
    """A transport that keeps what is written: the protocol's reads are fed by the test, cut where it likes."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False
        self.ended = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.ended = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000)}.get(name, default)


_STREAM = (
    b"POST /a HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 120 + b"\r\nContent-Length: 5\r\n\r\nfirst"
    + b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\nX-T: 1\r\n\r\n"
    + b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthird"
)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(cuts=st.lists(st.integers(0, len(_STREAM)), max_size=12))
def test_heads_within_the_budget_pass_however_the_reads_are_cut(cuts: list[int]) -> None:
    """Three pipelined requests (one chunked, with a trailer), each head under max_header_bytes, cut into any reads:
    all three reach the app whole, and nothing is refused."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    bodies: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        bodies.append(body)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def run() -> _Transport:
        config = Config(app, ws="none", lifespan="off", access_log=False, log_level="warning")
        config.load()
        protocol = edge_protocol(ServerSettings(max_header_bytes=200))(
            config=config, server_state=ServerState(), app_state={})
        transport = _Transport()
        protocol.connection_made(transport)
        edges = [0, *sorted(cuts), len(_STREAM)]
        for start, end in zip(edges, edges[1:], strict=False):
            protocol.data_received(_STREAM[start:end])
            await asyncio.sleep(0)
        for _ in range(50):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport

    transport = asyncio.run(run())
    assert not transport.written.startswith(b"HTTP/1.1 4"), transport.written[:200]
    assert bodies == [b"first", b"second", b"third"], (bodies, transport.written[:300])


def test_a_head_over_the_budget_is_refused_however_the_reads_are_cut() -> None:
    """A 300-byte head against a 200-byte budget is refused 431 whether it comes in one read or byte by byte."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not see it")

    head = b"POST /a HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 260 + b"\r\n\r\n"

    async def run(step: int) -> bytes:
        config = Config(app, ws="none", lifespan="off", access_log=False, log_level="warning")
        config.load()
        protocol = edge_protocol(ServerSettings(max_header_bytes=200))(
            config=config, server_state=ServerState(), app_state={})
        transport = _Transport()
        protocol.connection_made(transport)
        for start in range(0, len(head), step):
            if transport.ended:
                break
            protocol.data_received(head[start:start + step])
        protocol.connection_lost(None)
        return transport.written

    for step in (len(head), 64, 1):
        assert asyncio.run(run(step)).startswith(b"HTTP/1.1 431 "), step
