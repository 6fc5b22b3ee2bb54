"""deploy/: the Loki dashboard reads only the log contract's fields, and Alloy ships the gateway's stdout to Loki."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from gateway.ops.log_lines import declared
from tests.logcapture import SCHEMA

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
LOGGING = DEPLOY / "k8s" / "logging"
ALLOY_CONFIGS = (LOGGING / "config.alloy", DEPLOY / "alloy" / "compose.alloy")
LOKI_INTERNAL = {"__error__", "__error_details__", "__line__"}
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())

Doc = dict[str, Any]

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_LABEL_FILTER = re.compile(r"(?:\||\band\b|\bor\b|,)\s*([A-Za-z_]\w*)\s*(?:=~|!~|!=|==|>=|<=|=|>|<)")
_STAGES = {"json", "logfmt", "unwrap", "line_format", "label_format", "keep", "drop", "regexp", "pattern", "unpack"}


def _dashboard() -> Doc:
    document: Doc = json.loads((DEPLOY / "grafana" / "logs-dashboard.json").read_text())
    return document


def _exprs() -> list[str]:
    return [target["expr"] for panel in _dashboard()["panels"] for target in panel["targets"]]


def _schema_fields() -> set[str]:
    return {name for definition in SCHEMA["$defs"].values() for name in definition.get("properties", {})}


def _alloy_labels() -> set[str]:
    """The stream labels the Alloy configs put on the gateway's lines."""
    labels: set[str] = set()
    for path in ALLOY_CONFIGS:
        text = path.read_text()
        labels |= set(re.findall(r'target_label\s*=\s*"(\w+)"', text))
        for values in re.findall(r"stage\.labels\s*\{\s*values\s*=\s*\{([^}]*)\}", text):
            labels |= set(re.findall(r"(\w+)\s*=", values))
    return labels


def logql_names(expr: str) -> tuple[set[str], set[str], set[str]]:
    """What a LogQL query reads: its stream selectors' labels, the fields its pipeline uses, the events it names."""
    strings = [match.group(0)[1:-1] for match in _STRING.finditer(expr)]
    events = set(re.findall(r'"event":"([^"]+)"', " ".join(strings)))
    text = _STRING.sub('""', expr)
    selectors = re.findall(r"\{([^}]*)\}", text)
    stream = {name for selector in selectors for name in re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", selector)}
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    fields = {name for name in _LABEL_FILTER.findall(text) if name not in _STAGES}
    fields |= set(re.findall(r"\bunwrap\s+([A-Za-z_]\w*)", text))
    fields |= {name.strip() for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", text)
               for name in group.split(",") if name.strip()}
    fields |= {name for string in strings for name in re.findall(r"\{\{\s*\.(\w+)", string)}
    for match in re.finditer(r'\bevent\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"', expr):
        events |= set(match.group(2).split("|")) if match.group(1) == "=~" else {match.group(2)}
    return stream, fields, events


def test_logql_names_are_extracted() -> None:
    expr = ('sum by (outcome) (count_over_time({app="x", level=~"e|w"} |= `"event":"webhook"` | json '
            '| __error__="" | event="webhook" | provider=~"$p" and status>=400 | unwrap duration_ms [$__auto])) '
            '+ {app="x"} | json | event=~"a|b" | line_format `{{.trace_id}} {{ .span_id }}`')
    stream, fields, events = logql_names(expr)
    assert stream == {"app", "level"}
    assert fields == {"outcome", "__error__", "event", "provider", "status", "duration_ms", "trace_id", "span_id"}
    assert events == {"webhook", "a", "b"}


def test_the_dashboard_reads_only_fields_of_the_log_schema() -> None:
    """Every field a query filters, groups, unwraps or prints is in schemas/log-lines.schema.json."""
    allowed = _schema_fields() | LOKI_INTERNAL
    for expr in _exprs():
        _, fields, _ = logql_names(expr)
        assert fields <= allowed, f"not in the log schema: {fields - allowed} in {expr}"


def test_the_dashboard_names_only_declared_events() -> None:
    for expr in _exprs():
        _, _, events = logql_names(expr)
        assert all(declared(event) is not None for event in events), (events, expr)


def test_the_dashboard_selects_the_streams_alloy_ships() -> None:
    labels = _alloy_labels()
    assert {"app", "level"} <= labels
    for expr in _exprs():
        stream, _, _ = logql_names(expr)
        assert "app" in stream and stream <= labels, expr


def test_the_dashboard_has_the_panels_operators_need() -> None:
    """By outcome and provider, p50/p99, dead letters by reason, spool depth, relay progress, a booking's trail."""
    exprs = " ".join(_exprs())
    for needle in ("sum by (outcome)", "sum by (provider)", "quantile_over_time(0.5,", "quantile_over_time(0.99,",
                   "unwrap duration_ms", "sum by (reason", "unwrap left", "unwrap spooled", "unwrap records",
                   "|= `$subject`"):
        assert needle in exprs, needle
    variables = {variable["name"] for variable in _dashboard()["templating"]["list"]}
    assert {"datasource", "provider", "subject"} <= variables


def test_the_dashboard_is_well_formed() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    assert dashboard["uid"] != json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())["uid"]
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"]["type"] == "loki" and panel["gridPos"], panel["title"]
        assert all(target["expr"] and target["refId"] for target in panel["targets"]), panel["title"]


def test_alloy_keeps_only_the_gateway() -> None:
    """Kubernetes: the gateway StatefulSet's pod label (not Redis'); compose: the gateway service."""
    gateway = yaml.safe_load((DEPLOY / "k8s" / "statefulset.yaml").read_text())
    assert gateway["kind"] == "StatefulSet"
    name = gateway["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
    assert f'regex         = "{name}"' in ALLOY_CONFIGS[0].read_text()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert 'regex         = "gateway"' in ALLOY_CONFIGS[1].read_text() and "gateway" in compose
    for path in ALLOY_CONFIGS:
        text = path.read_text()
        assert "loki.write" in text and 'source = "timestamp"' in text and "stage.json" in text, path


def test_compose_runs_loki_alloy_and_grafana() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"loki", "alloy", "grafana"} <= set(services)
    for service in ("loki", "alloy", "grafana"):
        for volume in services[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), (service, source)
    alloy_mounts = dict(volume.split(":")[1::-1] for volume in services["alloy"]["volumes"])
    assert alloy_mounts["/etc/alloy/config.alloy"] == "./alloy/compose.alloy"
    assert "http://loki:3100/loki/api/v1/push" in ALLOY_CONFIGS[1].read_text()
    sources = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "loki.yaml").read_text())
    assert "loki" in {source["uid"] for source in sources["datasources"]}


def _logging_docs() -> list[Doc]:
    return [document for document in yaml.safe_load_all((LOGGING / "alloy.yaml").read_text()) if document]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_the_kubernetes_logging_manifests_validate(version: str) -> None:
    for document in _logging_docs():
        kubernetes_validate.validate(document, version, strict=True)


def test_the_kubernetes_logging_folder_is_wired() -> None:
    """The kustomization builds the ConfigMap the Alloy Deployment mounts, from config.alloy."""
    kustomization = yaml.safe_load((LOGGING / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["alloy.yaml"]
    [generated] = kustomization["configMapGenerator"]
    assert generated["files"] == ["config.alloy"]
    [deployment] = [document for document in _logging_docs() if document["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert {volume.get("configMap", {}).get("name") for volume in pod["volumes"]} >= {generated["name"]}
    [container] = pod["containers"]
    assert container["args"][-1] == "/etc/alloy/config.alloy"
    [role] = [document for document in _logging_docs() if document["kind"] == "ClusterRole"]
    assert {"pods", "pods/log"} <= set(role["rules"][0]["resources"])
