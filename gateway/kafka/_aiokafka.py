"""The aiokafka internals the publisher needs, in one place: the producer's own client and cluster metadata.

``AIOKafkaProducer`` offers no public way to learn a topic's partitions
before sending, nor to ask the broker which topics exist; its ``client``
(``set_topics``, ``force_metadata_update``, ``fetch_all_metadata``) and
``client.cluster`` (``add_listener``, ``partitions_for_topic``, ``topics``)
do. tests/gateway/test_library_internals.py fails, naming the internal,
when a pinned aiokafka changes any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

__all__ = ["Partitions", "ProducerMetadata", "murmur2"]

Partitions = dict[str, tuple[int, ...]]
"""The known partitions of each followed topic that has any, sorted."""


def _partitions(cluster: Any, topics: Sequence[str]) -> Partitions:
    known = {}
    for topic in topics:
        partitions = cluster.partitions_for_topic(topic)
        if partitions:
            known[topic] = tuple(sorted(partitions))
    return known


class ProducerMetadata:
    """A started producer's view of the cluster, through its own client (no second connection)."""

    __slots__ = ("_client", "_topics")

    def __init__(self, producer: AIOKafkaProducer, topics: Sequence[str]) -> None:
        self._client = producer.client
        self._topics = list(topics)

    async def follow(self, changed: Callable[[Partitions], None]) -> None:
        """Track the topics' metadata, call ``changed`` with their partitions now and after every update."""
        cluster = self._client.cluster
        cluster.add_listener(lambda updated: changed(_partitions(updated, self._topics)))
        self._client.set_topics(self._topics)
        await self._client.force_metadata_update()
        changed(_partitions(cluster, self._topics))

    def refresh(self) -> None:
        """Ask for fresh metadata soon, without waiting for it (the listener hears of it)."""
        self._client.force_metadata_update()

    async def topics(self) -> set[str]:
        """Every topic the broker has now (a metadata request of its own; KafkaError when none answers)."""
        metadata = await self._client.fetch_all_metadata()
        return set(metadata.topics())
