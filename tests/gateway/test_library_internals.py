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

from gateway.config import TopicSettings
from gateway.http.coalescing import CoalescingHttpProtocol, CoalescingTransport
from gateway.kafka._aiokafka import Partitions, ProducerMetadata
from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.topics import ensure_topics


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _require(condition: bool, internal: str, user: str, consequence: str) -> None:
    if not condition:
        pytest.fail(f"library internal changed: {internal} (used by {user}): {consequence}", pytrace=False)


# --- uvicorn: gateway/http/coalescing.py ---------------------------------------------------------------


def test_uvicorn_httptools_protocol_is_where_coalescing_expects_it() -> None:
    module = importlib.import_module("uvicorn.protocols.http.httptools_impl")
    _require(hasattr(module, "HttpToolsProtocol"), "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol",
             "gateway/http/coalescing.py", "CoalescingHttpProtocol subclasses it")
    protocol = module.HttpToolsProtocol
    _require(_parameters(protocol.connection_made) == ["self", "transport"],
             "HttpToolsProtocol.connection_made(self, transport)", "gateway/http/coalescing.py",
             "the coalescing transport is handed in through this call")


async def test_uvicorn_protocol_writes_through_the_transport_it_was_given() -> None:
    """After connection_made, uvicorn keeps our transport as ``self.transport``: every write goes through it."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    config = Config(app, http=CoalescingHttpProtocol)
    config.load()
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    protocol = CoalescingHttpProtocol(config=config, server_state=ServerState(), app_state={})
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, ours)
    try:
        _require(isinstance(protocol.transport, CoalescingTransport), "HttpToolsProtocol.transport",
                 "gateway/http/coalescing.py", "uvicorn no longer writes through the transport connection_made stored")
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
