"""A connected producer for the commands that publish (``replay``, ``quarantine retry``), or a clear refusal."""

from __future__ import annotations

from gateway.commands._consume import KafkaUnavailable
from gateway.config import Config
from gateway.kafka.publisher import Publisher

__all__ = ["open_publisher"]


async def open_publisher(config: Config) -> Publisher:
    """A started publisher for the configured broker; KafkaUnavailable (stopped again) when it cannot connect."""
    publisher = Publisher(config.kafka, config.topics, max_request_size=config.kafka.max_record_bytes)
    await publisher.start()
    if not publisher.connected:
        await publisher.stop()
        why = publisher.refusal.detail if publisher.refusal else "no answer"
        raise KafkaUnavailable(f"cannot connect a producer to {config.kafka.bootstrap_servers}: {why}")
    return publisher
