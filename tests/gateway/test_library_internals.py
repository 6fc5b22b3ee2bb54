"""The shape of the library internals the gateway relies on: these fail, naming the internal, when an upgrade moves one.

The lock (requirements/*.txt) makes an upgrade a deliberate step; these tests
make it a safe one. Each names the internal, the gateway module that uses it,
and what breaks there if it changes.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import socket
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.client import AIOKafkaClient
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import BrokerResponseError, KafkaConnectionError, KafkaError, UnknownError

from gateway.config import ServerSettings, TopicSettings
from gateway.http.coalescing import CoalescingTransport
from gateway.http.protocol import edge_protocol
from gateway.kafka._aiokafka import Partitions, ProducerMetadata
from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.topics import ensure_topics


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _require(condition: bool, internal: str, user: str, consequence: str) -> None:
    if not condition:
        pytest.fail(f"library internal changed: {internal} (used by {user}): {consequence}", pytrace=False)


# --- uvicorn and httptools: gateway/http/protocol.py ----------------------------------------------------

_PROTOCOL = "gateway/http/protocol.py"


def test_uvicorn_httptools_protocol_is_where_the_edge_expects_it() -> None:
    module = importlib.import_module("uvicorn.protocols.http.httptools_impl")
    _require(hasattr(module, "HttpToolsProtocol"), "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol",
             _PROTOCOL, "GatewayHttpProtocol subclasses it")
    protocol = module.HttpToolsProtocol
    _require(_parameters(protocol.__init__) == ["self", "config", "server_state", "app_state", "_loop"],
             "HttpToolsProtocol.__init__(config, server_state, app_state, _loop)", _PROTOCOL,
             "edge_protocol adds the limits as a keyword beside what uvicorn's server passes")
    methods = {"connection_made": ["self", "transport"], "connection_lost": ["self", "exc"],
               "eof_received": ["self"], "data_received": ["self", "data"], "on_message_begin": ["self"],
               "on_headers_complete": ["self"], "on_body": ["self", "body"], "on_message_complete": ["self"],
               "_unset_keepalive_if_required": ["self"]}
    for name, parameters in methods.items():
        _require(callable(getattr(protocol, name, None)) and _parameters(getattr(protocol, name)) == parameters,
                 f"HttpToolsProtocol.{name}({', '.join(parameters[1:])})", _PROTOCOL,
                 "the edge's limits, timeouts and half-close handling override or call it")
    cycle = _parameters(module.RequestResponseCycle.__init__)
    _require({"scope", "message_event", "keep_alive"} <= set(cycle), "RequestResponseCycle(scope, message_event, "
             "keep_alive)", _PROTOCOL, "a body timeout marks the scope, wakes the app and ends keep-alive")


def test_httptools_reports_a_callback_error_with_its_cause() -> None:
    """An exception raised in a parser callback comes back as HttpParserError whose __context__ is that exception."""
    import httptools

    class Refusing:
        def on_headers_complete(self) -> None:
            raise LookupError("refused")

    parser = httptools.HttpRequestParser(Refusing())
    try:
        parser.feed_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    except httptools.HttpParserError as exc:
        cause = exc.__context__
    else:
        cause = None
    _require(isinstance(cause, LookupError), "httptools.HttpParserError.__context__", _PROTOCOL,
             "a header-count refusal raised in on_headers_complete would be answered 400, not 431")
    _require(issubclass(httptools.HttpParserUpgrade, Exception), "httptools.HttpParserUpgrade", _PROTOCOL,
             "an Upgrade request ends the connection after its answer")


def test_httptools_reads_trailers_after_the_last_chunk_header() -> None:
    """The order the trailer budget relies on: chunk header, body, chunk complete; the last chunk's header, trailers."""
    import httptools

    class Recording:
        def __init__(self) -> None:
            self.events: list[str] = []

        def on_header(self, name: bytes, value: bytes) -> None:
            self.events.append(name.decode())

        def on_body(self, body: bytes) -> None:
            self.events.append("body")

        def on_chunk_header(self) -> None:
            self.events.append("chunk-header")

        def on_chunk_complete(self) -> None:
            self.events.append("chunk-complete")

    recording = Recording()
    httptools.HttpRequestParser(recording).feed_data(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n")
    expected = ["Transfer-Encoding", "chunk-header", "body", "chunk-complete", "chunk-header", "X-Trailer",
                "chunk-complete"]
    _require(recording.events == expected, "httptools on_chunk_header/on_body/on_chunk_complete order", _PROTOCOL,
             f"trailers would escape max_header_bytes (saw {recording.events})")


async def test_uvicorn_protocol_keeps_the_state_the_edge_reads() -> None:
    """After connection_made and a request head, uvicorn holds what the edge reads: transport, connections, cycle."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    started = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await receive()

    factory = edge_protocol(ServerSettings())
    config = Config(app, http=factory, ws="none", timeout_keep_alive=1)  # type: ignore[arg-type]
    config.load()
    _require(config.http_protocol_class is factory, "uvicorn.Config(http=<protocol factory>)", _PROTOCOL,
             "serve hands uvicorn a factory carrying the limits, not a class")
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    protocol = factory(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, ours)
    try:
        _require(isinstance(protocol.transport, CoalescingTransport), "HttpToolsProtocol.transport", _PROTOCOL,
                 "uvicorn no longer writes through the transport connection_made stored")
        _require(protocol in protocol.connections, "HttpToolsProtocol.connections (ServerState.connections)",
                 _PROTOCOL, "server.max_connections is counted there")
        _require(isinstance(protocol.app_state, dict), "HttpToolsProtocol.app_state (the lifespan state)", _PROTOCOL,
                 "the requests the edge refuses itself are counted in the app's metrics through it")
        theirs.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nA: 1\r\nContent-Length: 5\r\n\r\n")
        await asyncio.wait_for(started.wait(), 5)
        _require(len(protocol.headers) == 3, "HttpToolsProtocol.headers", _PROTOCOL,
                 "server.max_header_count is checked on it")
        cycle = protocol.cycle
        _require(all(hasattr(cycle, name) for name in ("keep_alive", "response_started", "response_complete")),
                 "RequestResponseCycle.keep_alive/response_started/response_complete", _PROTOCOL,
                 "timeouts and half-closed senders decide by them")
        _require(cycle.scope is protocol.scope and isinstance(cycle.message_event, asyncio.Event),
                 "RequestResponseCycle.scope/message_event", _PROTOCOL, "a body timeout reaches the app through them")
    finally:
        transport.close()
        theirs.close()


# --- aiokafka: gateway/kafka/_aiokafka.py (the client's internals), gateway/kafka/publisher.py (the batch API) --


def test_aiokafka_batch_api_has_the_shape_the_publisher_uses() -> None:
    _require(_parameters(AIOKafkaProducer.create_batch) == ["self"], "AIOKafkaProducer.create_batch()",
             "gateway/kafka/publisher.py", "requests share batches built by it")
    _require(_parameters(AIOKafkaProducer.send_batch) == ["self", "batch", "topic", "partition"],
             "AIOKafkaProducer.send_batch(batch, topic, *, partition)", "gateway/kafka/publisher.py",
             "every batch is handed over with it")
    from aiokafka.producer.message_accumulator import BatchBuilder

    _require({"timestamp", "key", "value", "headers"} <= set(_parameters(BatchBuilder.append)),
             "BatchBuilder.append(*, timestamp, key, value, headers)", "gateway/kafka/publisher.py (PendingBatch.append)",
             "records are appended to open batches with it; None means full")
    _require(callable(getattr(BatchBuilder, "close", None)), "BatchBuilder.close()",
             "gateway/kafka/publisher.py (PendingBatch.close)", "a batch past its deadline is closed to newcomers")


def test_aiokafka_client_and_cluster_metadata_internals() -> None:
    for name in ("set_topics", "force_metadata_update", "fetch_all_metadata"):
        _require(callable(getattr(AIOKafkaClient, name, None)), f"AIOKafkaClient.{name}",
                 "gateway/kafka/_aiokafka.py (ProducerMetadata, through producer.client)",
                 "partitions and readiness come from it")
    for name in ("add_listener", "partitions_for_topic", "topics"):
        _require(callable(getattr(ClusterMetadata, name, None)), f"ClusterMetadata.{name}",
                 "gateway/kafka/_aiokafka.py (ProducerMetadata, through producer.client.cluster)",
                 "partitions are learnt from it")
    from aiokafka.partitioner import murmur2

    # Apache Kafka's own test vectors (UtilsTest.testMurmur2), as unsigned 32-bit values.
    vectors = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536, b"abc": 479470107}
    _require(all(murmur2(key) & 0xFFFFFFFF == java & 0xFFFFFFFF for key, java in vectors.items()),
             "aiokafka.partitioner.murmur2", "gateway/kafka/_aiokafka.py (for the publisher's partitioner)",
             "keyed records must land where Kafka's default partitioner puts them")


async def test_aiokafka_producer_exposes_its_client_and_error_classes(broker: EmbeddedBroker) -> None:
    """``producer.client.cluster`` after start; a refused InitProducerId is a BrokerResponseError."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        _require(isinstance(producer.client, AIOKafkaClient), "AIOKafkaProducer.client", "gateway/kafka/_aiokafka.py",
                 "metadata and readiness go through the producer's own client")
        _require(isinstance(producer.client.cluster, ClusterMetadata), "AIOKafkaClient.cluster",
                 "gateway/kafka/_aiokafka.py", "partition changes are followed through it")
    finally:
        await producer.stop()
    _require(issubclass(UnknownError, BrokerResponseError) and not issubclass(KafkaConnectionError,
                                                                             BrokerResponseError),
             "aiokafka.errors.BrokerResponseError", "gateway/kafka/publisher.py (ProducerRefused)",
             "a broker's refusal of the idempotent producer is told from an unreachable broker by this class")
    _require(hasattr(KafkaError, "retriable"), "KafkaError.retriable", "gateway/kafka/publisher.py",
             "retriable and permanent failures are told apart by it")


def test_aiokafka_error_flags_the_relay_branches_on() -> None:
    """A record refused for its size is permanent (set aside); timeouts and lost connections are retried in order."""
    from aiokafka.errors import MessageSizeTooLargeError, RequestTimedOutError

    _require(issubclass(MessageSizeTooLargeError, BrokerResponseError) and not MessageSizeTooLargeError.retriable,
             "aiokafka.errors.MessageSizeTooLargeError (a BrokerResponseError, retriable False)",
             "gateway/kafka/refusals.py (is_permanent), gateway/kafka/publisher.py",
             "the relay would retry a record the broker refuses for good forever, holding the spool")
    _require(RequestTimedOutError.retriable and KafkaConnectionError.retriable,
             "aiokafka.errors.RequestTimedOutError / KafkaConnectionError .retriable", "gateway/kafka/refusals.py",
             "records of a broker that is only slow or away would be quarantined instead of retried in order")


async def test_producer_metadata_learns_partitions_and_topics(broker: EmbeddedBroker) -> None:
    """Through those internals, ProducerMetadata reports a topic's partitions and the broker's topics."""
    topics = TopicSettings(canonical="internals.c", raw="internals.r", dead_letter="internals.d", partitions=2)
    await ensure_topics(broker.bootstrap_servers, topics)
    topic = topics.canonical
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        seen: list[Partitions] = []
        metadata = ProducerMetadata(producer, [topic])
        await metadata.follow(seen.append)
        _require(bool(seen) and seen[-1].get(topic) == (0, 1),
                 "ClusterMetadata.partitions_for_topic after AIOKafkaClient.set_topics/force_metadata_update",
                 "gateway/kafka/_aiokafka.py (ProducerMetadata.follow)", "records could not be placed on partitions")
        _require(topic in await metadata.topics(), "AIOKafkaClient.fetch_all_metadata().topics()",
                 "gateway/kafka/_aiokafka.py (ProducerMetadata.topics)", "/readyz could not name missing topics")
    finally:
        await producer.stop()
