"""Creating the gateway's topics where they are missing (dev mode, tests, first deploys)."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from gateway.config import TopicSettings

__all__ = ["ensure_topics", "topic_names"]


def topic_names(topics: TopicSettings) -> list[str]:
    """The canonical, raw and dead-letter topic names."""
    return [topics.canonical, topics.raw, topics.dead_letter]


async def ensure_topics(bootstrap_servers: str, topics: TopicSettings) -> list[str]:
    """Create whichever of the three topics does not exist; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in topic_names(topics) if name not in existing]
        if missing:
            new = [NewTopic(name, topics.partitions, topics.replication_factor) for name in missing]
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
        return missing
    finally:
        await admin.close()
