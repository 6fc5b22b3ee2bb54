"""The AsyncAPI 3.1.0 document of what the gateway publishes: its three topics, their messages and keys."""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.config import Config
from gateway.kafka.records import CLOUDEVENTS_CONTENT_TYPE, META_HEADER, DeliveryMeta
from schemas.canonical import (
    DATASCHEMA,
    EVENT_TYPES,
    SCHEMA_VERSION,
    SPECVERSION,
    CloudEvent,
    NonEmptyStr,
    UriReference,
)

__all__ = ["ASYNCAPI_VERSION", "asyncapi_document", "render_asyncapi"]

ASYNCAPI_VERSION = "3.1.0"
_KAFKA_BINDING = "0.5.0"
_REF = "#/components/schemas/{name}"


def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """References to the CloudEvent and DeliveryMeta schemas, and the components they point into."""
    (event, meta), components = msgspec.json.schema_components((CloudEvent, DeliveryMeta), ref_template=_REF)
    return {"event": event, "meta": meta}, components


def _canonical_message(event: dict[str, Any]) -> dict[str, Any]:
    text, uri_reference = msgspec.json.schema(NonEmptyStr), msgspec.json.schema(UriReference)  # as in the payload
    return {
        "name": "CanonicalEvent", "title": "Canonical booking event",
        "summary": f"A CloudEvents 1.0 event in structured JSON mode ({DATASCHEMA}).",
        "contentType": CLOUDEVENTS_CONTENT_TYPE.decode(),
        "headers": {"type": "object", "required": ["ce_type", "ce_id", "ce_source", "ce_subject"], "properties": {
            "content-type": {"const": CLOUDEVENTS_CONTENT_TYPE.decode()}, "ce_specversion": {"const": SPECVERSION},
            "ce_type": {"type": "string", "enum": list(EVENT_TYPES)}, "ce_id": text, "ce_source": uri_reference,
            "ce_subject": text}},
        "payload": event,
        "bindings": {"kafka": {"key": {"type": "string", "description": "the booking id (the event's subject)"},
                               "bindingVersion": _KAFKA_BINDING}},
    }


def _archive_message(name: str, summary: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name, "title": name, "summary": summary,
        "contentType": "application/octet-stream",
        "headers": {"type": "object", "required": [META_HEADER], "properties": {
            META_HEADER: {"description": "JSON: what the gateway knows of the request", "allOf": [meta]},
            "content-type": {"type": "string", "description": "the request's Content-Type, when it had one"}}},
        "payload": {"description": "the vendor's request body, byte for byte (usually JSON, possibly malformed)"},
        "bindings": {"kafka": {"key": {"type": "string", "description": "the source id"},
                               "bindingVersion": _KAFKA_BINDING}},
    }


def _channel(address: str, message: str, config: Config, description: str) -> dict[str, Any]:
    topics = config.topics
    return {
        "address": address, "description": description,
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        "bindings": {"kafka": {"topic": address, "partitions": topics.partitions,
                               "replicas": topics.replication_factor, "bindingVersion": _KAFKA_BINDING}},
    }


def _send(channel: str, message: str, summary: str) -> dict[str, Any]:
    return {"action": "send", "summary": summary, "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}]}


def asyncapi_document(config: Config) -> dict[str, Any]:
    """The document for the topics (and broker) of ``config``."""
    refs, schemas = _schemas()
    topics = config.topics
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "Booking webhook gateway", "version": SCHEMA_VERSION,
                 "description": "Canonical booking events made from scheduling vendors' webhooks, "
                                "the raw archive of every authenticated request, and its dead letters."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": config.kafka.bootstrap_servers, "protocol": "kafka"}},
        "channels": {
            "canonical": _channel(topics.canonical, "canonicalEvent", config, "One record per canonical event."),
            "raw": _channel(topics.raw, "rawDelivery", config, "One record per authenticated request."),
            "deadLetter": _channel(topics.dead_letter, "deadLetter", config,
                                   "Requests that could not be parsed, repaired or mapped."),
        },
        "operations": {
            "sendCanonicalEvent": _send("canonical", "canonicalEvent", "Publish each canonical event."),
            "sendRawDelivery": _send("raw", "rawDelivery", "Archive every authenticated request."),
            "sendDeadLetter": _send("deadLetter", "deadLetter", "Set aside a request that cannot be mapped."),
        },
        "components": {
            "messages": {
                "canonicalEvent": _canonical_message(refs["event"]),
                "rawDelivery": _archive_message("RawDelivery", "An authenticated request as received.", refs["meta"]),
                "deadLetter": _archive_message("DeadLetter", "A request that could not be mapped; "
                                               f"{META_HEADER}.error says why.", refs["meta"]),
            },
            "schemas": schemas,
        },
    }


def render_asyncapi(config: Config) -> bytes:
    """The document as indented JSON (JSON is valid YAML, which AsyncAPI tools also read)."""
    return msgspec.json.format(msgspec.json.encode(asyncapi_document(config)), indent=2) + b"\n"
