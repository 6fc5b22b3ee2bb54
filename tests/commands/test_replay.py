"""``gateway replay``: the raw archive and dead letters mapped again and republished to the canonical topic."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec

from gateway.commands._progress import Progress
from gateway.commands._replaying import Counts
from gateway.kafka.broker import EmbeddedBroker, free_port
from tests.commands import PICKTIME, post_fresh, run_gateway
from tests.conftest import TOPICS, GatewayProcess
from tests.kafka import Record, header, read_until

SAMPLES = ["seed_service_created.json", "seed_class_sessions_created.json", "seed_service_updated_broken.json"]


def _config(gateway: GatewayProcess) -> str:
    return str(gateway.log_path.parent / "gateway.toml")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _post_samples(client: httpx.Client) -> list[str]:
    """Post the samples as new deliveries; their event ids."""
    ids: list[str] = []
    for name in SAMPLES:
        response = post_fresh(client, PICKTIME / name)
        assert response.status_code == 202, response.text
        ids.extend(response.json()["events"])
    return ids


def _ce_id(record: Record) -> str:
    return (header(record, "ce_id") or b"").decode()


def test_dry_run_maps_and_counts_but_publishes_nothing(client: httpx.Client, gateway: GatewayProcess) -> None:
    """--dry-run over the raw topic counts the posted deliveries and their events, publishes none."""
    since = _now()
    ids = _post_samples(client)
    result = run_gateway("replay", "--config", _config(gateway), "--from", "raw", "--since", since,
                         "--source", "picktime", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    summary = msgspec.json.decode(result.stdout)
    assert summary["dry_run"] is True and summary["reached_end"] is True
    assert summary["published"] == 0 and summary["failures"] == []
    counts = summary["counts"]
    assert (counts["mapped"], counts["events"], counts["failed"]) == (len(SAMPLES), len(ids), 0)
    assert counts["read"] == counts["mapped"] + counts["skipped"] + counts["ignored"]


async def test_replay_republishes_identical_canonical_records(
    client: httpx.Client, gateway: GatewayProcess, broker: EmbeddedBroker
) -> None:
    """A real replay puts each event on the canonical topic a second time, with the same key, value and headers."""
    since = _now()
    ids = _post_samples(client)
    result = run_gateway("replay", "--config", _config(gateway), "--from", "raw", "--since", since)
    assert result.returncode == 0, result.stderr
    assert f"mapped {len(SAMPLES)}, events {len(ids)}," in result.stdout
    assert f"published {len(ids)}" in result.stdout

    def twice(records: list[Record]) -> bool:
        seen = [_ce_id(record) for record in records]
        return all(seen.count(event_id) >= 2 for event_id in ids)

    records = await read_until(broker.bootstrap_servers, TOPICS.canonical, twice)
    copies: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        copies[_ce_id(record)].append(record)
    for event_id in ids:
        first, second = copies[event_id]
        assert (first.key, first.value, first.headers) == (second.key, second.value, second.headers)


def test_dead_letter_replay_lists_what_still_fails(client: httpx.Client, gateway: GatewayProcess) -> None:
    """An unrepairable body on the dead-letter topic is counted and listed as failed (exit 1), not re-dead-lettered."""
    since = _now()
    response = post_fresh(client, b'{"dataObject" {"event_id":"e5","event_type":"class"},"type":"CREATE"}')
    assert response.status_code == 422
    delivery_id = response.json()["delivery_id"]
    result = run_gateway("replay", "--config", _config(gateway), "--from", "dead-letter", "--since", since)
    assert result.returncode == 1, result.stderr
    assert "failed 1" in result.stdout and "published 0" in result.stdout
    assert f"  {delivery_id}  picktime  malformed-json: JSON is malformed: expected ':'" in result.stdout


def test_unreachable_broker_exits_4(tmp_path: Path, gateway: GatewayProcess) -> None:
    """No broker at the configured address: exit 4 and a sentence saying so."""
    config = tmp_path / "gateway.toml"
    text = Path(_config(gateway)).read_text()
    config.write_text(text.replace("bootstrap_servers = ", f'bootstrap_servers = "127.0.0.1:{free_port()}"\n#'))
    result = run_gateway("replay", "--config", str(config), "--from", "raw")
    assert result.returncode == 4
    assert "cannot reach Kafka" in result.stderr and "Traceback" not in result.stderr


def test_usage_mistakes_exit_2(gateway: GatewayProcess) -> None:
    """--since without a zone, or a --source the config lacks, is refused with exit 2 and a hint."""
    result = run_gateway("replay", "--config", _config(gateway), "--from", "raw", "--since", "2026-01-02T03:04:05")
    assert result.returncode == 2 and "add Z or an offset" in result.stderr
    result = run_gateway("replay", "--config", _config(gateway), "--from", "raw", "--source", "nope")
    assert result.returncode == 2 and "no source 'nope'" in result.stderr and "picktime-e2e" in result.stderr


def test_progress_redraws_one_line_on_a_terminal_and_logs_lines_otherwise() -> None:
    """On a TTY the line is redrawn with \\r; in logs each update is its own line; both end with the counts."""
    terminal, log = io.StringIO(), io.StringIO()
    counts = Counts(read=3, mapped=2, events=4)
    Progress(terminal, interactive=True).update(counts, final=True)
    Progress(log, interactive=False).update(counts, final=True)
    assert terminal.getvalue().startswith("\r") and terminal.getvalue().endswith("\n")
    assert log.getvalue().startswith("read 3  mapped 2  events 4  ignored 0  skipped 0  failed 0  (")
