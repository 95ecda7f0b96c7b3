"""The Kubernetes manifests, checked offline.

- Each overlay is rendered with kustomize (`kubectl kustomize`, Kustomize v5 built into kubectl) and
  every object of a core kind is validated against the Kubernetes OpenAPI schemas shipped by
  kubernetes-validate, strictly (unknown fields fail), for the oldest and newest versions we support.
- The custom resources of Strimzi (Kafka, KafkaNodePool, KafkaTopic) and CloudNativePG (Cluster,
  ScheduledBackup) have no schema there: they are checked structurally instead (required fields, and
  that they fit each other and the services).
- Without kubectl, a small renderer check still runs: every resource a kustomization lists exists,
  every patch targets a resource that exists, images and namespaces are set.
"""

import importlib
import shutil
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

from tallykit.contracts import registry
from tallystack.stack import SERVICES  # every service the local stack runs must be deployed too

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
WORKLOADS = (*SERVICES, "gateway")
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
CUSTOM_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "ScheduledBackup"}
NAMESPACE = "tally"
Doc = dict[str, Any]


@cache
def render(overlay: str) -> tuple[Doc, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed; the renderer check still ran")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=True
    ).stdout
    return tuple(d for d in yaml.safe_load_all(out) if d)


def of_kind(docs: Iterable[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@cache
def required_topics() -> frozenset[str]:
    """What the code needs: one topic per producer, one dead-letter topic per consumer group."""
    topics = {f"{spec.producer}.events" for spec in registry.specs()}
    for service in SERVICES:
        app = importlib.import_module(f"tally_{service}.main").create_app(run_background=False)
        topics |= {consumer.dead_letter_topic for consumer in app.state.consumers}
    return frozenset(topics)


# -- rendering --------------------------------------------------------------------------------------


def _kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


@pytest.mark.parametrize("kustomization", _kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_every_listed_resource_and_patch_target_exists(kustomization: Path) -> None:
    """The renderer check that needs no kustomize binary."""
    spec = yaml.safe_load(kustomization.read_text())
    folder = kustomization.parent
    available: set[tuple[str, str]] = set()
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        assert path.exists(), f"{kustomization}: {entry} does not exist"
        files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            if file.name != "kustomization.yaml":
                available |= {
                    (d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(file.read_text()) if d
                }
    for generator in spec.get("secretGenerator", []) + spec.get("configMapGenerator", []):
        available.add(
            ("Secret" if generator in spec.get("secretGenerator", []) else "ConfigMap", generator["name"])
        )
    for patch in spec.get("patches", []):
        target = patch["target"]
        found = [(k, n) for k, n in available if k == target["kind"] and target.get("name", n) == n]
        assert found, f"{kustomization}: patch target {target} matches no resource"
    if folder.parent.name == "overlays":
        assert spec["namespace"] == NAMESPACE
        assert {i["name"] for i in spec["images"]} == {f"tally/{w}" for w in WORKLOADS}
        assert all(i.get("newTag") for i in spec["images"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_workload_with_its_companions(overlay: str) -> None:
    docs = render(overlay)
    for kind in (
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ServiceAccount",
        "NetworkPolicy",
    ):
        assert set(WORKLOADS) <= set(of_kind(docs, kind)), kind
    assert set(of_kind(docs, "Job")) == {f"{s}-migrate" for s in SERVICES}
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]["name"]


# -- schemas ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_core_object_is_valid_against_the_kubernetes_schema(overlay: str, version: str) -> None:
    checked = 0
    for doc in render(overlay):
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, version, strict=True)
        checked += 1
    assert checked > 40


def test_the_schema_check_would_catch_a_mistake() -> None:
    deployment = dict(of_kind(render("dev"), "Deployment")["ledger"])
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {**deployment, "spec": {**deployment["spec"], "replica": 2}}, "1.37.0", strict=True
        )
    with pytest.raises(SchemaNotFoundError):
        kubernetes_validate.validate(next(d for d in render("production") if d["kind"] == "Kafka"), "1.37.0")


# -- workloads --------------------------------------------------------------------------------------


def _container(pod_spec: Doc) -> Doc:
    (container,) = pod_spec["containers"]
    return dict(container)


def _pod_specs(docs: Iterable[Doc]) -> dict[str, Doc]:
    """Pod specs of Tally's own workloads (Deployments, Jobs, CronJobs), by workload name."""
    specs = {}
    for doc in docs:
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "tally":
            continue
        if doc["kind"] in ("Deployment", "Job"):
            specs[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            specs[doc["metadata"]["name"]] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_unprivileged_with_probes_and_resources(overlay: str) -> None:
    docs = render(overlay)
    accounts = of_kind(docs, "ServiceAccount")
    pods = list(_pod_specs(docs).items())
    assert len(pods) == 12  # six Deployments, five migration Jobs, the key-rotation CronJob
    for name, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        assert accounts[pod["serviceAccountName"]]["automountServiceAccountToken"] is False
        container = _container(pod)
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }, name
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    for name, deployment in of_kind(docs, "Deployment").items():
        if name not in WORKLOADS:
            continue
        container = _container(deployment["spec"]["template"]["spec"])
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["args"][:4] == ["python", "-m", f"tally_{name}", "serve"]
        assert "0.0.0.0" in container["args"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_pdbs_and_autoscalers_point_at_their_deployment(overlay: str) -> None:
    docs = render(overlay)
    deployments = of_kind(docs, "Deployment")
    for name in WORKLOADS:
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert matches(of_kind(docs, "Service")[name]["spec"]["selector"], pod_labels)
        assert matches(
            of_kind(docs, "PodDisruptionBudget")[name]["spec"]["selector"]["matchLabels"], pod_labels
        )
        hpa = of_kind(docs, "HorizontalPodAutoscaler")[name]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        if overlay == "dev":
            assert hpa["maxReplicas"] == 1
        else:
            assert hpa["minReplicas"] >= 2
    for deployment in deployments.values():
        assert "replicas" not in deployment["spec"] or deployment["metadata"]["name"] not in WORKLOADS


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_set_by_the_overlay(overlay: str) -> None:
    for name, deployment in of_kind(render(overlay), "Deployment").items():
        image = _container(deployment["spec"]["template"]["spec"])["image"]
        if name in WORKLOADS:
            expected = "tally/" if overlay == "dev" else "registry.example.com/tally/"
            assert image.startswith(f"{expected}{name}:"), image
        assert ":" in image.rsplit("/", 1)[-1], f"{image} has no tag"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_environment_names_are_settings_the_services_read(overlay: str) -> None:
    """Every TALLY_<SERVICE>_* a pod gets is a field of that service's settings: no typo goes unnoticed."""
    docs = render(overlay)
    config_maps = of_kind(docs, "ConfigMap")
    for name in WORKLOADS:
        module = importlib.import_module(f"tally_{name}.settings")
        settings_cls = next(
            v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings"
        )
        prefix = f"TALLY_{name.upper()}_"
        container = _container(of_kind(docs, "Deployment")[name]["spec"]["template"]["spec"])
        names = [e["name"] for e in container.get("env", [])]
        for source in container["envFrom"]:
            assert source["prefix"] == prefix
            names += [prefix + key for key in config_maps[source["configMapRef"]["name"]]["data"]]
        for env_name in names:
            assert env_name.startswith(prefix)
            assert env_name.removeprefix(prefix).lower() in settings_cls.model_fields, env_name
        if name != "gateway":
            assert {prefix + "DATABASE_URL", prefix + "KAFKA_BOOTSTRAP_SERVERS", prefix + "JWKS_URL"} <= set(
                names
            )


# -- network policies -------------------------------------------------------------------------------


def _allows(
    rules: list[Doc], direction: str, labels: dict[str, str], port: int, namespace: str | None = None
) -> bool:
    """Does any rule let traffic to/from a pod with `labels` (in `namespace`: None = ours, "internet" =
    an address outside the cluster) on `port`?"""
    for rule in rules:
        if not any(p["port"] == port for p in rule.get("ports", [{"port": port}])):
            continue
        for peer in rule.get(direction, []):
            if "ipBlock" in peer:  # addresses outside the cluster
                if namespace == "internet":
                    return True
                continue
            ns = peer.get("namespaceSelector")
            if namespace is None and ns not in (None, {}):
                continue
            if namespace is not None and (
                ns is None
                or not matches(ns.get("matchLabels", {}), {"kubernetes.io/metadata.name": namespace})
            ):
                continue
            if matches(peer.get("podSelector", {}).get("matchLabels", {}), labels):
                return True
    return False


def _pod_labels(docs: tuple[Doc, ...]) -> dict[str, dict[str, str]]:
    """Labels of the pods each workload, database and broker will run with."""
    labels: dict[str, dict[str, str]] = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            labels[doc["metadata"]["name"]] = doc["spec"]["template"]["metadata"]["labels"]
        elif doc["kind"] == "Cluster":  # CloudNativePG puts inheritedMetadata on its pods
            labels[doc["metadata"]["name"]] = doc["spec"]["inheritedMetadata"]["labels"]
        elif doc["kind"] == "KafkaNodePool":
            labels["kafka"] = doc["spec"]["template"]["pod"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_reachable_from_outside_and_each_service_reaches_only_its_database(
    overlay: str,
) -> None:
    docs = render(overlay)
    policies = of_kind(docs, "NetworkPolicy")
    pods = _pod_labels(docs)
    database = {s: pods["postgres"] if overlay == "dev" else pods[f"{s}-db"] for s in SERVICES}
    assert policies["default-deny"]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    for name in WORKLOADS:
        policy = policies[name]["spec"]
        assert matches(policies["default-deny"]["spec"]["podSelector"]["matchLabels"], pods[name])
        assert matches(policy["podSelector"]["matchLabels"], pods[name])
        from_outside = _allows(policy["ingress"], "from", {}, 8000, namespace="ingress-nginx")
        assert from_outside == (name == "gateway"), name
        assert _allows(policy["ingress"], "from", {}, 8000, namespace="monitoring"), "Prometheus scrapes"
        egress = policy["egress"]
        for owner in SERVICES:
            reaches = _allows(egress, "to", database[owner], 5432)
            assert reaches == (owner == name) or (overlay == "dev" and name in SERVICES), (name, owner)
        if overlay == "production":  # one server per database: the label decides
            assert [o for o in SERVICES if _allows(egress, "to", database[o], 5432)] == (
                [name] if name in SERVICES else []
            )
        assert _allows(egress, "to", pods["kafka"], 9092) == (name in SERVICES), name
        assert _allows(egress, "to", pods["auth"], 8000) == (name != "auth"), "JWKS"
        assert _allows(egress, "to", {}, 587, namespace="internet") == (name == "notifier"), "SMTP"
        if overlay == "dev" and name == "notifier":
            assert _allows(egress, "to", pods["mailpit"], 1025)
    for caller in WORKLOADS:
        assert _allows(policies["auth"]["spec"]["ingress"], "from", pods[caller], 8000), f"{caller} → JWKS"
    for callee in SERVICES:
        assert _allows(policies[callee]["spec"]["ingress"], "from", pods["gateway"], 8000)
        assert _allows(policies["gateway"]["spec"]["egress"], "to", pods[callee], 8000)


# -- the operators' resources (production) ------------------------------------------------------------


def test_kafka_topics_are_the_ones_the_code_needs_with_partitions_and_retention() -> None:
    docs = render("production")
    kafka = of_kind(docs, "Kafka")["tally-kafka"]
    assert kafka["metadata"]["annotations"] == {
        "strimzi.io/node-pools": "enabled",
        "strimzi.io/kraft": "enabled",
    }
    (pool,) = of_kind(docs, "KafkaNodePool").values()
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "tally-kafka"
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    listener = {entry["name"]: entry for entry in kafka["spec"]["kafka"]["listeners"]}["plain"]
    assert listener["port"] == 9092
    config = of_kind(docs, "ConfigMap")["tally-common"]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == "tally-kafka-kafka-bootstrap:9092"
    assert config["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    topics = {t["spec"]["topicName"]: t for t in of_kind(docs, "KafkaTopic").values()}
    assert set(topics) == required_topics()
    for name, topic in topics.items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "tally-kafka"
        assert (
            topic["spec"]["replicas"] == int(config["KAFKA_REPLICATION_FACTOR"]) <= pool["spec"]["replicas"]
        )
        assert topic["spec"]["config"]["min.insync.replicas"] < topic["spec"]["replicas"]
        assert "retention.ms" in topic["spec"]["config"]
        if name.endswith(".events"):
            assert topic["spec"]["partitions"] == int(config["KAFKA_TOPIC_PARTITIONS"])


def test_each_service_has_its_own_postgres_cluster_whose_secret_it_reads() -> None:
    docs = render("production")
    clusters = of_kind(docs, "Cluster")
    backups = {b["spec"]["cluster"]["name"] for b in of_kind(docs, "ScheduledBackup").values()}
    assert set(clusters) == {f"{s}-db" for s in SERVICES} == backups
    for service in SERVICES:
        cluster = clusters[f"{service}-db"]["spec"]
        assert cluster["instances"] >= 2
        assert cluster["bootstrap"]["initdb"] == {"database": f"tally_{service}", "owner": f"tally_{service}"}
        assert cluster["backup"]["barmanObjectStore"]["destinationPath"].endswith(f"/{service}")
        for pod in (of_kind(docs, "Deployment")[service], of_kind(docs, "Job")[f"{service}-migrate"]):
            env = {e["name"]: e for e in _container(pod["spec"]["template"]["spec"])["env"]}
            # CloudNativePG writes <cluster>-app with a `uri` key.
            assert env[f"TALLY_{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": f"{service}-db-app",
                "key": "uri",
            }


def test_signing_keys_are_rotated_monthly_with_auths_own_command() -> None:
    auth = importlib.import_module("tally_auth.main").DEFINITION
    for overlay in OVERLAYS:
        (cron,) = of_kind(render(overlay), "CronJob").values()
        container = _container(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        assert container["args"][:3] == ["python", "-m", "tally_auth"]
        assert container["args"][3] in (auth.commands or {})
        assert (
            container["image"]
            == _container(of_kind(render(overlay), "Deployment")["auth"]["spec"]["template"]["spec"])["image"]
        )


def test_the_gateway_is_served_over_tls() -> None:
    (ingress,) = of_kind(render("production"), "Ingress").values()
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"]
    assert tls["secretName"]
    backends = {p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert backends == {"gateway"}
    assert "Ingress" not in {d["kind"] for d in render("dev")}
