"""deploy/: the Dockerfile, compose file, Kubernetes manifests, alerts and dashboard agree with the gateway."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate  # type: ignore[import-untyped]
import msgspec
import pytest
import yaml
from starlette.applications import Starlette
from starlette.routing import Match

from adapters import ADAPTERS
from gateway.commands.serve import _GRACEFUL_SHUTDOWN_S
from gateway.config import Config, load_config
from gateway.http.app import create_app
from gateway.kafka.delivery import _SHUTDOWN_DRAIN_S
from gateway.ops.metrics import METRIC_NAMES, Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
EXAMPLE_CONFIG = DEPLOY / "gateway.toml"
MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
# The oldest Kubernetes minor still commonly run, and the newest the validator ships schemas for.
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())
RUNBOOK_ANCHOR = "README.md#operations-runbook"
NON_ROOT_UID = 10001
GATEWAY = "booking-gateway"

Doc = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------------


def _yaml(path: Path) -> Doc:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def _secret_env(toml_text: str) -> dict[str, str]:
    """A dummy value for every environment variable the config's sources read their secret from."""
    sources = tomllib.loads(toml_text).get("sources", [])
    return {source["secret_env"]: f"test-{source['id']}-secret" for source in sources if "secret_env" in source}


def _load(path: Path) -> Config:
    return load_config(path, _secret_env(path.read_text()))


def _serves(app: Starlette, method: str, path: str) -> bool:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in app.routes)


def _url_in(text: str) -> tuple[int | None, str]:
    match = re.search(r"https?://[^\s'\"]+", text)
    assert match, f"no URL in {text!r}"
    url = urlsplit(match.group(0))
    return url.port, url.path


def _dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = (line.strip() for line in text.splitlines())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and not line.startswith("#")]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _one(stage: list[tuple[str, str]], keyword: str) -> str:
    found = [args for kw, args in stage if kw == keyword]
    assert found, f"the final stage has no {keyword}"
    return found[-1]


def _k8s_docs() -> Iterator[tuple[Path, Doc]]:
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text()):
            yield path, document


def _k8s(kind: str, name: str | None = None) -> Doc:
    found = [document for _, document in _k8s_docs()
             if document["kind"] == kind and name in (None, document["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _gateway() -> Doc:
    """The gateway's StatefulSet (deploy/k8s also runs Redis as one)."""
    return _k8s("StatefulSet", GATEWAY)


def _container() -> Doc:
    containers: list[Doc] = _gateway()["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, keywords, labels and durations left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', " ", expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\S+", " ", text)
    keywords = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
                "offset", "inf", "nan"}
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*", text):
        is_call = text[match.end():].lstrip().startswith("(")
        if not is_call and match.group(0).lower() not in keywords:
            names.add(match.group(0))
    return names


def _bytes(quantity: str) -> int:
    """A Kubernetes quantity such as 512Mi or 1G in bytes."""
    match = re.fullmatch(r"(\d+)([KMGT]i?)?", quantity)
    assert match, quantity
    scale: dict[str, int] = {"": 1}
    for power, prefix in enumerate("KMGT", start=1):
        scale[prefix], scale[prefix + "i"] = 1000**power, 1024**power
    return int(match.group(1)) * scale[match.group(2) or ""]


def _allowed_metric_names() -> set[str]:
    histograms = {family.name for family in Metrics().registry.collect() if family.type == "histogram"}
    return set(METRIC_NAMES) | {name + suffix for name in histograms for suffix in ("_bucket", "_sum", "_count")}


def _alert_rules() -> list[Doc]:
    return [rule for group in _yaml(DEPLOY / "prometheus" / "alerts.yaml")["groups"] for rule in group["rules"]]


def _dashboard() -> Doc:
    document = json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())
    assert isinstance(document, dict)
    return document


def _dashboard_exprs() -> list[str]:
    dashboard = _dashboard()
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    variables = dashboard.get("templating", {}).get("list", [])
    for variable in variables:
        if variable["type"] == "query":
            # Grafana's label_values(<selector>, <label>): only the selector is PromQL.
            query = variable["query"]["query"]
            label_values = re.fullmatch(r"label_values\((.*),\s*\w+\)", query)
            exprs.append(label_values.group(1) if label_values else query)
    return exprs


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> Config:
    """deploy/gateway.toml, checked by the gateway's own loader."""
    return _load(EXAMPLE_CONFIG)


@pytest.fixture(scope="module")
def app(config: Config, tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    """The application built from the example config (never started; its spool kept off /var/lib)."""
    spool = msgspec.structs.replace(config.spool, path=str(tmp_path_factory.mktemp("spool")))
    return create_app(msgspec.structs.replace(config, spool=spool), _secret_env(EXAMPLE_CONFIG.read_text()))


@pytest.fixture(scope="module")
def compose() -> Doc:
    """deploy/compose.yaml's services."""
    services: Doc = _yaml(DEPLOY / "compose.yaml")["services"]
    return services


@pytest.fixture(scope="module")
def k8s_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The gateway.toml carried by the ConfigMap, checked by the gateway's own loader."""
    path = tmp_path_factory.mktemp("configmap") / "gateway.toml"
    path.write_text(_k8s("ConfigMap")["data"]["gateway.toml"])
    return _load(path)


# --- every file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.json")]),
    ids=lambda path: str(path.relative_to(DEPLOY)),
)
def test_every_yaml_and_json_file_parses(path: Path) -> None:
    """Every YAML and JSON file under deploy/ parses to at least one document."""
    text = path.read_text()
    documents = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    assert documents and all(document is not None for document in documents)


def test_example_config_is_accepted(config: Config) -> None:
    """deploy/gateway.toml loads with the real loader and listens on every interface for a container."""
    assert config.server.host == "0.0.0.0"
    assert config.kafka.idempotence is True
    assert config.spool.path.startswith("/")
    assert {source.provider for source in config.sources} >= {"picktime"}
    assert all(source.secret is None and not source.secrets for source in config.sources), "secrets belong in env"


def test_example_config_serves_every_registered_vendor(config: Config) -> None:
    """One source per registered vendor, as its adapter declares it; ConfigMap, compose and Secret follow this file."""
    sources = {source.provider: source for source in config.sources}
    assert set(sources) == set(ADAPTERS) and len(config.sources) == len(ADAPTERS)
    for vendor, adapter in ADAPTERS.items():
        source = sources[vendor]
        kind = "SECRET" if adapter.default_auth == "hmac" else "TOKEN"
        assert (source.id, source.auth, source.secret_env) == (vendor, adapter.default_auth, f"{vendor.upper()}_{kind}")
        assert (source.timezone is not None) == adapter.needs_timezone, vendor
        assert (source.notification_url is not None) == adapter.needs_notification_url, vendor


def test_health_routes_exist(app: Starlette) -> None:
    """The app the deploy files point their probes at serves GET /healthz and GET /readyz."""
    assert _serves(app, "GET", "/healthz") and _serves(app, "GET", "/readyz")
    assert not _serves(app, "GET", "/no-such-route")


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_slim() -> None:
    """Every stage is built on python:3.11-slim, and the wheel is built in a stage of its own."""
    bases = [args.split()[0] for keyword, args in _dockerfile() if keyword == "FROM"]
    assert len(bases) >= 2
    assert all(base == "python:3.11-slim" for base in bases)


def test_dockerfile_runs_as_non_root() -> None:
    """The final stage switches to uid 10001."""
    user = _one(_final_stage(), "USER").split(":")[0]
    assert user == str(NON_ROOT_UID)


def test_dockerfile_exposes_and_checks_the_configured_port(config: Config, app: Starlette) -> None:
    """EXPOSE and the HEALTHCHECK URL use the example config's port, and the check asks a real route."""
    stage = _final_stage()
    assert _one(stage, "EXPOSE").split("/")[0] == str(config.server.port)
    healthcheck = _one(stage, "HEALTHCHECK")
    assert "curl" not in healthcheck and "urllib" in healthcheck
    port, path = _url_in(healthcheck)
    assert port == config.server.port and path == "/healthz"
    assert _serves(app, "GET", path)


def test_dockerfile_entrypoint_is_the_installed_command() -> None:
    """ENTRYPOINT is the project's console script and CMD serves the config file the image ships."""
    stage = _final_stage()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(_one(stage, "ENTRYPOINT")) == ["gateway"] and "gateway" in scripts
    assert json.loads(_one(stage, "CMD")) == ["serve", "--config", "/etc/gateway/gateway.toml"]


def test_dockerfile_copies_only_what_the_context_holds() -> None:
    """Every COPY from the build context (the repo root) names a path that exists and is not dockerignored."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    copies = [args.split() for keyword, args in _dockerfile() if keyword == "COPY" and "--from" not in args]
    assert copies
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.split("/")[0] not in ignored, source


def test_dockerignore_keeps_local_state_out() -> None:
    """The virtualenv, git metadata, caches and var/ never enter the build context."""
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".git", ".pytest_cache", ".mypy_cache", "var"} <= ignored


# --- compose ------------------------------------------------------------------------------------


def test_compose_kafka_runs_kraft_single_node(compose: Doc, config: Config) -> None:
    """kafka is the official image in KRaft mode, advertising the address the gateway's config dials."""
    kafka = compose["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["CLUSTER_ID"] and int(env["KAFKA_NODE_ID"]) >= 0
    assert set(env["KAFKA_LISTENERS"].split(",")) == {"PLAINTEXT://:9092", "CONTROLLER://:9093"}
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{config.kafka.bootstrap_servers}"
    assert config.kafka.bootstrap_servers.split(":")[0] in compose
    for setting in ("OFFSETS_TOPIC_REPLICATION_FACTOR", "TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert int(env[f"KAFKA_{setting}"]) == 1
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_compose_topics_creates_exactly_the_configured_topics(compose: Doc, config: Config) -> None:
    """The one-shot topics service creates the config's three topics, idempotently, once kafka is healthy."""
    topics = compose["topics"]
    script = " ".join(topics["command"])
    assert topics["image"] == compose["kafka"]["image"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    commands = [line for line in re.sub(r"\\\n", " ", script).splitlines() if "kafka-topics.sh" in line]
    assert all("/opt/kafka/bin/kafka-topics.sh" in line and "--create --if-not-exists" in line for line in commands)
    created = re.findall(r"--topic\s+(\S+)", script)
    assert sorted(created) == sorted([config.topics.canonical, config.topics.raw, config.topics.dead_letter])
    assert set(re.findall(r"--partitions\s+(\d+)", script)) == {str(config.topics.partitions)}
    assert set(re.findall(r"--replication-factor\s+(\d+)", script)) == {str(config.topics.replication_factor)}


def test_compose_gateway_builds_and_publishes_the_configured_port(compose: Doc, config: Config) -> None:
    """The gateway builds deploy/Dockerfile from the repo root and publishes server.port."""
    gateway = compose["gateway"]
    context = (DEPLOY / gateway["build"]["context"]).resolve()
    assert context == ROOT and (context / gateway["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    published = {entry.split(":")[-1]: entry for entry in gateway["ports"]}
    assert str(config.server.port) in published
    assert gateway["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_compose_gateway_healthcheck_asks_a_real_route(compose: Doc, config: Config, app: Starlette) -> None:
    """The compose healthcheck calls /healthz on the configured port, with Python since slim has no curl."""
    test = compose["gateway"]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python"
    port, path = _url_in(" ".join(test))
    assert port == config.server.port and path == "/healthz" and _serves(app, "GET", path)


def test_compose_gateway_mounts_config_and_spool(compose: Doc, config: Config) -> None:
    """The example config lands where CMD reads it, and the spool path is a volume."""
    mounts = dict(volume.split(":")[1::-1] for volume in compose["gateway"]["volumes"])
    assert (DEPLOY / mounts["/etc/gateway/gateway.toml"]).resolve() == EXAMPLE_CONFIG
    assert mounts[config.spool.path] in _yaml(DEPLOY / "compose.yaml")["volumes"]


def test_compose_gateway_has_every_source_secret(compose: Doc) -> None:
    """Every secret_env the example config names, and nothing else, is set in the gateway's environment."""
    assert set(_secret_env(EXAMPLE_CONFIG.read_text())) == set(compose["gateway"]["environment"])


def test_compose_prometheus_loads_the_alert_rules(compose: Doc) -> None:
    """The prometheus service mounts the rules file its config lists and scrapes the gateway."""
    mounts = dict(volume.split(":")[1::-1] for volume in compose["prometheus"]["volumes"])
    assert all((DEPLOY / source).resolve().is_file() for source in mounts.values())
    settings = _yaml(DEPLOY / "prometheus" / "prometheus.yml")
    assert all(mounts[rule_file] == "./prometheus/alerts.yaml" for rule_file in settings["rule_files"])


def test_compose_prometheus_scrapes_the_metrics_route(config: Config, app: Starlette) -> None:
    """Prometheus scrapes gateway:<server.port> on a path the app serves."""
    job = _yaml(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"][0]
    assert job["static_configs"][0]["targets"] == [f"gateway:{config.server.port}"]
    assert _serves(app, "GET", job["metrics_path"])


# --- Kubernetes ---------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    """kustomization.yaml lists exactly the other manifests of deploy/k8s."""
    listed = _yaml(K8S / "kustomization.yaml")["resources"]
    assert sorted(listed) == [path.name for path in MANIFESTS]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest_validates_against_the_kubernetes_schema(path: Path, version: str) -> None:
    """Each manifest validates strictly (no unknown fields) against the Kubernetes OpenAPI schemas."""
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{path.name} against Kubernetes {version}: {where}: {exc.message}")


def test_k8s_configmap_config_is_accepted(k8s_config: Config, config: Config) -> None:
    """The ConfigMap's gateway.toml loads with the real loader and serves the example's sources and port."""
    assert k8s_config.server.host == "0.0.0.0" and k8s_config.server.port == config.server.port
    assert k8s_config.sources == config.sources and k8s_config.topics.canonical == config.topics.canonical


def test_k8s_secret_holds_every_source_secret() -> None:
    """The Secret has a key for each secret_env of the ConfigMap's config (and no other), and the gateway loads it."""
    secret = _k8s("Secret")
    wanted = set(_secret_env(_k8s("ConfigMap")["data"]["gateway.toml"]))
    assert wanted == set(secret["stringData"])
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in _container()["envFrom"]
    assert "replace me" in (K8S / "secret.yaml").read_text().lower()


def test_k8s_probes_ask_real_routes_on_the_container_port(k8s_config: Config, app: Starlette) -> None:
    """readiness asks GET /readyz and liveness GET /healthz on the named http port, which is server.port."""
    container = _container()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": k8s_config.server.port}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path and _serves(app, "GET", path)
        assert http_get["port"] in (k8s_config.server.port, "http")


def test_k8s_gateway_runs_locked_down() -> None:
    """Pods run as uid 10001 on a read-only root filesystem, with a writable volume for the spool."""
    pod = _gateway()["spec"]["template"]["spec"]
    container = _container()
    context = {**pod["securityContext"], **container["securityContext"]}
    assert context["runAsNonRoot"] is True and context["runAsUser"] == NON_ROOT_UID
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False


def test_k8s_grace_period_covers_the_shutdown_drain() -> None:
    """SIGTERM comes after preStop; then in-flight requests, the relay's drain and a flush must fit in the grace."""
    pod = _gateway()["spec"]["template"]["spec"]
    pre_stop = _container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    flush_margin_s = 5
    needed = int(pre_stop[1]) + _GRACEFUL_SHUTDOWN_S + _SHUTDOWN_DRAIN_S + flush_margin_s
    assert pod["terminationGracePeriodSeconds"] >= needed


def test_k8s_gateway_mounts_config_and_spool(k8s_config: Config) -> None:
    """The ConfigMap is mounted where the command reads it; the spool path is on a claim of each pod's own."""
    gateway = _gateway()
    pod = gateway["spec"]["template"]["spec"]
    container = _container()
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    config_path = container["args"][container["args"].index("--config") + 1]
    config_dir = str(Path(config_path).parent)
    assert volumes[mounts[config_dir]]["configMap"]["name"] == _k8s("ConfigMap")["metadata"]["name"]
    spool = [path for path in mounts if Path(k8s_config.spool.path).is_relative_to(path)]
    assert len(spool) == 1
    claims = {claim["metadata"]["name"]: claim["spec"] for claim in gateway["spec"]["volumeClaimTemplates"]}
    assert mounts[spool[0]] in claims and mounts[spool[0]] not in volumes, "the spool must outlive the pod"
    claim = claims[mounts[spool[0]]]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert _bytes(claim["resources"]["requests"]["storage"]) > k8s_config.spool.max_bytes, "spool cannot fill"


def test_k8s_gateway_keeps_its_spool_claims() -> None:
    """A StatefulSet with a governing headless Service, whose claims outlive scale-down and deletion."""
    spec = _gateway()["spec"]
    assert spec["replicas"] == 2
    assert _container()["resources"]["requests"]["cpu"]  # the HPA needs CPU requests
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    governing = _k8s("Service", spec["serviceName"])
    assert governing["spec"]["clusterIP"] == "None"


def test_k8s_selectors_match_the_pods() -> None:
    """The gateway's Services and PodDisruptionBudget select its pods (not Redis'); the HPA targets its StatefulSet."""
    gateway = _gateway()
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    redis_labels = _k8s("StatefulSet", "booking-gateway-redis")["spec"]["template"]["metadata"]["labels"]
    selectors = [
        gateway["spec"]["selector"]["matchLabels"],
        _k8s("Service", GATEWAY)["spec"]["selector"],
        _k8s("Service", gateway["spec"]["serviceName"])["spec"]["selector"],
        _k8s("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
    ]
    assert all(selector.items() <= labels.items() for selector in selectors)
    assert not any(selector.items() <= redis_labels.items() for selector in selectors)
    assert _k8s("PodDisruptionBudget")["spec"]["minAvailable"] == 1
    target = _k8s("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("StatefulSet", GATEWAY)


def test_k8s_service_targets_the_named_port() -> None:
    """The gateway's Services forward to the container's http port."""
    port_names = {port["name"] for port in _container()["ports"]}
    for name in (GATEWAY, _gateway()["spec"]["serviceName"]):
        assert all(port["targetPort"] in port_names for port in _k8s("Service", name)["spec"]["ports"])


def test_k8s_hpa_scales_on_cpu_and_down_one_pod_at_a_time() -> None:
    """The HPA (autoscaling/v2) scales on CPU, never below the StatefulSet's replicas, and down by one pod at a time."""
    hpa = _k8s("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= _gateway()["spec"]["replicas"]
    scale_down = hpa["spec"]["behavior"]["scaleDown"]
    assert [(policy["type"], policy["value"]) for policy in scale_down["policies"]] == [("Pods", 1)]


def test_k8s_dedupe_is_the_redis_it_runs(k8s_config: Config) -> None:
    """The ConfigMap's [dedupe] is Redis, at the Service redis.yaml defines, on the port its pods serve."""
    assert k8s_config.dedupe.backend == "redis" and k8s_config.dedupe.redis_url
    url = urlsplit(k8s_config.dedupe.redis_url)
    service = _k8s("Service", url.hostname)
    redis = _k8s("StatefulSet", "booking-gateway-redis")
    assert service["spec"]["selector"].items() <= redis["spec"]["template"]["metadata"]["labels"].items()
    assert [port["port"] for port in service["spec"]["ports"]] == [url.port]
    container = redis["spec"]["template"]["spec"]["containers"][0]
    container_ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert all(container_ports[port["targetPort"]] == 6379 for port in service["spec"]["ports"])


def test_compose_dedupe_is_its_redis_service(config: Config, compose: Doc) -> None:
    """deploy/gateway.toml's Redis is the compose redis service, which the gateway waits for."""
    assert config.dedupe.backend == "redis" and config.dedupe.redis_url
    assert urlsplit(config.dedupe.redis_url).hostname in compose
    assert compose["gateway"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_k8s_scrape_annotations_point_at_the_metrics_route(k8s_config: Config, app: Starlette) -> None:
    """The pod's prometheus.io annotations name server.port and a path the app serves."""
    annotations = _gateway()["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(k8s_config.server.port)
    assert _serves(app, "GET", annotations["prometheus.io/path"])


# --- alerts and dashboard -----------------------------------------------------------------------


def test_promql_metric_names_are_extracted() -> None:
    """The PromQL reader finds metric names and leaves out functions, labels, durations and numbers."""
    expr = 'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x=~"b|c"}[5m]))) > 0.5 and on (i) d / (e > 1e3)'
    assert _metric_names(expr) == {"a_bucket", "d", "e"}
    assert _metric_names('sum(rate(x_total{p=~"$provider"}[$__rate_interval])) offset 1h') == {"x_total"}


def test_alerts_use_only_gateway_metrics() -> None:
    """Every metric an alert expression reads is one the gateway exports."""
    allowed = _allowed_metric_names()
    for rule in _alert_rules():
        assert _metric_names(rule["expr"]) <= allowed, rule["alert"]


def test_alerts_are_complete() -> None:
    """Every alert has a unique name, a for:, a severity, a summary, a description and the runbook link."""
    rules = _alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        assert annotations["runbook_url"].endswith(RUNBOOK_ANCHOR), rule["alert"]


def test_alerts_cover_the_failure_modes() -> None:
    """There are alerts on 503s, dead letters, p99 latency, broker down, the spool filling and quarantined records."""
    exprs = " ".join(rule["expr"] for rule in _alert_rules())
    for needle in ("broker-unavailable", "gateway_dead_letters_total", "histogram_quantile(0.99",
                   "gateway_broker_up == 0", "gateway_spool_capacity_bytes", "gateway_quarantined_records"):
        assert needle in exprs, needle


def test_runbook_section_exists() -> None:
    """The README has the "Operations runbook" section every alert links to."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    assert "Operations runbook" in headings


def test_dashboard_uses_only_gateway_metrics() -> None:
    """Every metric a dashboard query or variable reads is one the gateway exports."""
    allowed = _allowed_metric_names()
    for expr in _dashboard_exprs():
        assert _metric_names(expr) <= allowed, expr


def test_dashboard_shows_every_metric() -> None:
    """Each series the gateway exports appears on some panel."""
    used = set().union(*(_metric_names(expr) for expr in _dashboard_exprs()))
    for name in METRIC_NAMES:
        assert any(metric == name or metric.startswith(name + "_") for metric in used), name


def test_dashboard_is_well_formed() -> None:
    """The dashboard has a uid, a recent schemaVersion, unique panel ids and a query on every panel."""
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["gridPos"] and panel["targets"], panel["title"]
        assert all(target["expr"] and target["refId"] for target in panel["targets"]), panel["title"]
