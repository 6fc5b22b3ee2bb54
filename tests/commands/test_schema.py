"""``gateway schema`` and the AsyncAPI document: the canonical JSON Schema, and the three topics described."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from gateway.config import Config, TopicSettings
from gateway.kafka.asyncapi import asyncapi_document
from gateway.kafka.records import DeliveryMeta
from schemas.jsonschema import render
from tests.commands import run_gateway


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_schema_prints_the_committed_json_schema() -> None:
    """Without options it prints exactly schemas.jsonschema.render()."""
    result = run_gateway("schema")
    assert result.returncode == 0
    assert result.stdout.encode() == render()
    assert msgspec.json.decode(result.stdout)["$id"] == "urn:booking-gateway:schema:canonical-event:v1"


def test_asyncapi_document_structure() -> None:
    """3.1.0; three channels at the topic names; three send operations; every $ref resolves."""
    document = asyncapi_document(Config())
    assert document["asyncapi"] == "3.1.0"
    topics = TopicSettings()
    channels = document["channels"]
    assert {name: channel["address"] for name, channel in channels.items()} == {
        "canonical": topics.canonical, "raw": topics.raw, "deadLetter": topics.dead_letter}
    for ref in set(_refs(document)):
        assert _resolve(document, ref) is not None, ref
    for operation in document["operations"].values():
        assert operation["action"] == "send"
        channel_ref = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel_ref + "/messages/")  # AsyncAPI 3: the channel's own messages


def test_asyncapi_messages_carry_payloads_headers_and_keys() -> None:
    """Canonical payload is the CloudEvent schema; archives carry DeliveryMeta in gateway-meta; kafka keys described."""
    document = asyncapi_document(Config())
    messages = document["components"]["messages"]
    event = _resolve(document, messages["canonicalEvent"]["payload"]["$ref"])
    assert set(event["required"]) >= {"id", "source", "type", "subject", "data"}
    for name in ("rawDelivery", "deadLetter"):
        meta_ref = messages[name]["headers"]["properties"]["gateway-meta"]["allOf"][0]["$ref"]
        meta = _resolve(document, meta_ref)
        assert set(meta["properties"]) == set(msgspec.json.schema(DeliveryMeta)["$defs"]["DeliveryMeta"]["properties"])
        assert messages[name]["bindings"]["kafka"]["key"]["type"] == "string"
    assert "subject" in messages["canonicalEvent"]["bindings"]["kafka"]["key"]["description"]


def test_asyncapi_ce_headers_are_constrained_as_the_payload() -> None:
    """The ce_id, ce_source and ce_subject headers have the schema of the event's id, source and subject."""
    document = asyncapi_document(Config())
    message = document["components"]["messages"]["canonicalEvent"]
    event = _resolve(document, message["payload"]["$ref"])
    headers = message["headers"]["properties"]
    for name in ("id", "source", "subject"):
        assert headers[f"ce_{name}"] == event["properties"][name]


def test_asyncapi_command_takes_topic_names_from_the_config(tmp_path: Path) -> None:
    """With --config the channel addresses and the server are the configured ones."""
    config = tmp_path / "gateway.toml"
    config.write_text('[kafka]\nbootstrap_servers = "kafka.internal:9092"\n'
                      '[topics]\ncanonical = "acme.bookings"\nraw = "acme.raw"\ndead_letter = "acme.dlq"\n')
    result = run_gateway("schema", "--asyncapi", "--config", str(config))
    assert result.returncode == 0, result.stderr
    document = msgspec.json.decode(result.stdout)
    addresses = [channel["address"] for channel in document["channels"].values()]
    assert addresses == ["acme.bookings", "acme.raw", "acme.dlq"]
    assert document["servers"]["kafka"]["host"] == "kafka.internal:9092"


def test_config_without_asyncapi_is_a_usage_error(tmp_path: Path) -> None:
    """--config alone is refused with a hint (exit 2); a bad config file is a configuration error (exit 3)."""
    config = tmp_path / "gateway.toml"
    config.write_text("[topics]\ncanonical = 1\n")
    assert run_gateway("schema", "--config", str(config)).returncode == 2
    result = run_gateway("schema", "--asyncapi", "--config", str(config))
    assert result.returncode == 3 and "$.topics.canonical" in result.stderr
