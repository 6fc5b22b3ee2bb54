"""A poisoned spool does not block: the record the broker refuses for good is quarantined, the rest go on in order.

Against the real broker and a real gateway process. The spool is written
first under a larger limit; the gateway then runs with a smaller
``kafka.max_record_bytes``, so its producer refuses the large record with
MessageSizeTooLargeError (not retriable), as it would for a broker's
``message.max.bytes`` lowered under spooled records. ``gateway quarantine``
lists it, retries it (refused again under the same limit), and delivers it
under a config that allows it.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from gateway.outbound import OutboundRecord
from gateway.storage.spool import Spool
from tests.commands import json_lines, run_gateway
from tests.conftest import GatewayProcess, gateway_config, start_gateway, stop_gateway
from tests.kafka import read_until
from tests.waiting import wait_for

LIMIT = 16_384
POISON_BYTES = 20_000


def _topics() -> TopicSettings:
    run = uuid.uuid4().hex[:8]
    return TopicSettings(canonical=f"q-{run}.c", raw=f"q-{run}.r", dead_letter=f"q-{run}.d", partitions=1)


def _config(broker: EmbeddedBroker, port: int, spool: Path, topics: TopicSettings, limit: int) -> str:
    text = gateway_config(broker.bootstrap_servers, port, spool)
    text = text.replace("[kafka]\n", f"[kafka]\nmax_record_bytes = {limit}\nmax_batch_bytes = {min(limit, 1 << 20)}\n")
    text = re.sub(r"max_body_bytes = \d+", f"max_body_bytes = {limit // 2}", text, count=1)  # below the record limit
    return text.replace("[topics]\n", f'[topics]\ncanonical = "{topics.canonical}"\nraw = "{topics.raw}"\n'
                                      f'dead_letter = "{topics.dead_letter}"\n')


def _request(topics: TopicSettings, tag: str, raw_bytes: int = 100) -> list[OutboundRecord]:
    """One request's records as the gateway spools them: a canonical event and the raw archive record."""
    return [OutboundRecord(topic=topics.canonical, key=tag.encode(), value=f"event {tag}".encode(), headers=[]),
            OutboundRecord(topic=topics.raw, key=b"src", value=tag.encode().ljust(raw_bytes, b"."), headers=[])]


async def _spool_ahead(spool_dir: Path, topics: TopicSettings) -> None:
    """What a gateway with a larger limit left: a, then b with a raw record over LIMIT, then c."""
    spool = Spool(spool_dir, max_bytes=1 << 20)
    await spool.open()
    for tag, raw_bytes in (("a", 100), ("b", POISON_BYTES), ("c", 100)):
        await spool.append(_request(topics, tag, raw_bytes))
    await spool.close()


def _ready(gateway: GatewayProcess) -> dict[str, Any]:
    answer = httpx.get(gateway.base_url + "/readyz", timeout=5)
    document: dict[str, Any] = answer.json()
    document["http_status"] = answer.status_code
    return document


def _quarantine(*args: str) -> tuple[int, list[Any], str]:
    done = run_gateway("quarantine", *args, "--json")
    return done.returncode, json_lines(done.stdout), done.stderr


async def test_a_permanently_refused_record_is_quarantined_and_the_rest_delivered_in_order(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    topics = _topics()
    await ensure_topics(broker.bootstrap_servers, topics)
    spool_dir = tmp_path / "spool"
    await _spool_ahead(spool_dir, topics)
    port = free_port()
    gateway = start_gateway(_config(broker, port, spool_dir, topics, LIMIT), tmp_path)
    roomy = tmp_path / "roomy.toml"
    roomy.write_text(_config(broker, port, spool_dir, topics, 1 << 20))
    try:
        canonical = await read_until(broker.bootstrap_servers, topics.canonical, lambda got: len(got) >= 3)
        assert [record.key for record in canonical] == [b"a", b"b", b"c"], "nothing held behind the poisoned one"
        raw = await read_until(broker.bootstrap_servers, topics.raw, lambda got: len(got) >= 2)
        assert [record.value[:1] for record in raw] == [b"a", b"c"]

        ready = wait_for(lambda: (r := _ready(gateway))["quarantine"]["records"] == 1 and r,
                         "/readyz to count the quarantined record")
        assert ready["http_status"] == 200 and ready["status"] == "ready", "a quarantine does not change readiness"
        assert "gateway quarantine list" in ready["quarantine"]["detail"]
        metrics = httpx.get(gateway.base_url + "/metrics", timeout=5).text.splitlines()
        assert "gateway_quarantined_records 1.0" in metrics
        [logged] = gateway.wait_for_log(lambda line: line["event"].endswith("quarantined"), "the quarantine line")
        assert logged["level"] == "error" and logged["error"] == "MessageSizeTooLargeError"

        config = str(tmp_path / "gateway.toml")
        code, [entry], _ = _quarantine("list", "--config", config)
        assert code == 0 and entry["id"] == logged["quarantine_id"] and entry["topic"] == topics.raw
        assert entry["error"] == "MessageSizeTooLargeError" and entry["record_bytes"] > LIMIT
        assert entry["quarantined_at"] and entry["spooled_at"]

        assert run_gateway("quarantine", "retry", "--config", config).returncode == 2, "neither ids nor --all"
        assert run_gateway("quarantine", "retry", "--config", config, "nope").returncode == 2, "an unknown id"
        code, [again], _ = _quarantine("retry", "--config", config, str(entry["id"]))
        assert code == 1 and again["outcome"] == "refused" and "MessageSizeTooLarge" in again["error"]
        assert len(_quarantine("list", "--config", config)[1]) == 1, "refused again: kept"

        code, [retried], _ = _quarantine("retry", "--config", str(roomy), "--all")
        assert code == 0 and retried == {"id": entry["id"], "outcome": "delivered"}
        assert _quarantine("list", "--config", config)[1] == []
        raw = await read_until(broker.bootstrap_servers, topics.raw, lambda got: len(got) >= 3)
        assert [len(record.value) for record in raw][-1] == POISON_BYTES
        wait_for(lambda: _ready(gateway)["quarantine"]["records"] == 0,
                 "/readyz to see the retried entry gone")
    finally:
        stop_gateway(gateway)


def test_quarantine_list_of_an_empty_spool_folder(tmp_path: Path) -> None:
    """Nothing quarantined (no spool yet): exit 0, no entries, a count on stderr."""
    config = tmp_path / "gateway.toml"
    config.write_text(f'[spool]\npath = "{tmp_path / "none"}"\n')
    code, entries, stderr = _quarantine("list", "--config", str(config))
    assert (code, entries) == (0, []) and "0 record(s) quarantined" in stderr
