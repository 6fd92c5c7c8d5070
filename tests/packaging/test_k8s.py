"""packaging/k8s: the manifests parse, agree with each other and with the image, and keep the
appliance to one replica on one volume."""

from __future__ import annotations

from typing import Any

import yaml

from appliance.settings import REGISTRY
from tests.packaging.support import REPO

K8S = REPO / "packaging" / "k8s"


def manifests() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = {}
    for name in kustomization["resources"]:
        doc = yaml.safe_load((K8S / name).read_text())
        found[doc["kind"]] = doc
    return found


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_one_replica_on_one_read_write_once_volume() -> None:
    sts = manifests()["StatefulSet"]["spec"]
    assert sts["replicas"] == 1
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    container = sts["template"]["spec"]["containers"][0]
    assert {"name": "data", "mountPath": "/data"} in container["volumeMounts"]
    assert sts["template"]["spec"]["terminationGracePeriodSeconds"] >= 30


def test_probes_ports_and_user_match_the_image() -> None:
    docs = manifests()
    pod = docs["StatefulSet"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 3000}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/-/health"
    assert pod["securityContext"]["runAsUser"] == 10001  # USER 10001:10001 in the Dockerfile
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    backend = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]


def test_config_names_real_settings_and_the_pod_loads_it() -> None:
    docs = manifests()
    env_names = set(REGISTRY[name].env for name in REGISTRY)
    assert set(docs["ConfigMap"]["data"]) <= env_names
    sources = docs["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"configMapRef": {"name": docs["ConfigMap"]["metadata"]["name"]}} in sources
    assert {"secretRef": {"name": docs["Secret"]["metadata"]["name"], "optional": True}} in sources
