"""The Helm chart (charts/jobguard) with a real helm 4: it lints, every values example renders
objects that are valid Kubernetes 1.30 to 1.37 (strict schemas: unknown fields are errors),
values.schema.json rejects wrong values, and the chart renders the same objects as deploy/base
and each of its overlays, so the two install paths cannot drift apart."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

from tests.deploy.kube import render as kustomize
from tests.install import helm
from tests.install.helm import CHART, NAMESPACE, RELEASE, render, run_helm

try:
    helm.helm()
except helm.HelmMissing as missing:
    pytest.skip(str(missing), allow_module_level=True)

EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))
#: Every values file the tests render: the defaults (None) and each example.
VALUES: list[Path | None] = [None, *EXAMPLES]
VALUES_IDS = ["defaults", *(p.stem for p in EXAMPLES)]
#: Kubernetes releases the chart supports (Chart.yaml kubeVersion) up to the newest schemas
#: kubernetes-validate ships.
K8S_VERSIONS = [f"1.{minor}.0" for minor in range(30, 38)]
#: Custom resources the Kubernetes OpenAPI schemas do not describe.
CUSTOM_KINDS = {
    ("cert-manager.io/v1", "Issuer"),
    ("cert-manager.io/v1", "Certificate"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
}
#: Labels and annotations only Helm adds (release bookkeeping); the rest must be equal.
HELM_LABELS = {
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
    "helm.sh/chart",
}
HELM_ANNOTATIONS: set[str] = set()
#: The chart's certificates Job carries a hash of its pod template in its name (kustomize's is
#: deleted by hand before an upgrade: docs/operations.md).
CERTS_JOB = re.compile(r"(.+-certs)-[0-9a-f]{8}")
#: Each overlay and the values example that renders the same objects.
OVERLAYS = [
    ("deploy/overlays/strict", "strict.yaml"),
    ("deploy/overlays/fail-closed", "fail-closed.yaml"),
    ("deploy/overlays/cert-manager", "cert-manager.yaml"),
    ("deploy/overlays/audit", "audit.yaml"),
]


def test_the_newest_schemas_are_kubernetes_1_37() -> None:
    assert kubernetes_validate.latest_version() == K8S_VERSIONS[-1]


def test_helm_is_version_4() -> None:
    result = run_helm("version", "--short")
    assert result.stdout.startswith("v4."), result.stdout


def test_the_chart_lints_strictly() -> None:
    result = run_helm("lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", VALUES, ids=VALUES_IDS)
def test_the_chart_lints_with_each_example(values: Path | None) -> None:
    args = ["lint", "--strict", str(CHART)] + (["--values", str(values)] if values else [])
    result = run_helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("values", VALUES, ids=VALUES_IDS)
def test_every_rendered_object_is_valid_kubernetes(values: Path | None, version: str) -> None:
    objects = render(values)
    assert objects
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            with pytest.raises(SchemaNotFoundError):
                kubernetes_validate.validate(obj, version, strict=True)
        else:
            kubernetes_validate.validate(obj, version, strict=True)


def test_strict_validation_rejects_what_the_chart_must_not_render() -> None:
    """The control for the test above: an unknown field in a rendered object is an error."""
    deployment = copy.deepcopy(find(render(None), "Deployment", "jobguard"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicys"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


#: (--set assignments, what helm's schema check says). Each must stop `helm template` (and so
#: `helm install` and `helm upgrade`) before anything is rendered.
WRONG_VALUES = [
    (
        ["webhook.failurePolicy=Maybe"],
        "at '/webhook/failurePolicy': value must be one of 'Ignore', 'Fail'",
    ),
    (["replicas=3"], "additional properties 'replicas' not allowed"),
    (["replicaCount=0"], "at '/replicaCount': minimum: got 0, want 1"),
    (["image.digest=latest"], "at '/image/digest'"),
    (["policy.use=lenient"], "at '/policy/use': value must be one of 'default', 'strict', 'own'"),
    (["policy.use=own"], "at '/policy/own': minLength: got 0, want 1"),
    (["certificates.method=vault"], "at '/certificates/method'"),
    (["autoscaling.enabled=yes"], "at '/autoscaling/enabled': got string, want boolean"),
    (["kubernetesVersion=latest"], "at '/kubernetesVersion'"),
    (["extraArgs={workers=4}"], "at '/extraArgs/0'"),
    (["webhook.excludeNamespaces={Kube_System}"], "at '/webhook/excludeNamespaces/0'"),
    (["resources.limits.memory=lots"], "at '/resources/limits/memory'"),
    (["metrics.port=8443"], "at '/metrics/port'"),
]


@pytest.mark.parametrize(("sets", "message"), WRONG_VALUES, ids=[s[0] for s, _ in WRONG_VALUES])
def test_a_wrong_value_is_rejected_by_the_values_schema(sets: list[str], message: str) -> None:
    result = run_helm(*helm.template_args(None, *sets))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr, result.stderr


def test_install_rejects_a_wrong_value_before_contacting_a_cluster() -> None:
    """`helm install --dry-run=client` runs the same schema check as a real install."""
    args = ["install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client"]
    good = run_helm(*args)
    assert good.returncode == 0, good.stderr
    bad = run_helm(*args, "--set", "webhook.failurePolicy=Never")
    assert bad.returncode == 1
    assert "at '/webhook/failurePolicy': value must be one of 'Ignore', 'Fail'" in bad.stderr


# -- the chart and the kustomize manifests describe the same objects ----------------------------


def find(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def _without_helm_bookkeeping(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_helm_bookkeeping(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        # A Service's selector is a plain label map (a Deployment's holds matchLabels).
        is_selector = key == "selector" and all(isinstance(v, str) for v in value.values())
        if (key in ("labels", "matchLabels") or is_selector) and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in HELM_LABELS}
        if key == "annotations" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in HELM_ANNOTATIONS}
            if not value:
                continue
        out[key] = _without_helm_bookkeeping(value)
    return out


def by_identity(objects: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """Objects keyed by kind/namespace/name, without Helm's release labels and hook annotations,
    and with kustomize's content-hash suffix taken off generated ConfigMap names."""
    text = json.dumps(list(objects))
    for obj in objects:
        name = obj["metadata"]["name"]
        hashed = re.fullmatch(r"(.+-policy)-[a-z0-9]{10}", name)
        if obj["kind"] == "ConfigMap" and hashed:
            text = text.replace(f'"{name}"', f'"{hashed.group(1)}"')
    keyed = {}
    for obj in json.loads(text):
        meta = obj["metadata"]
        hashed_job = CERTS_JOB.fullmatch(meta["name"])
        if obj["kind"] == "Job" and hashed_job:
            meta["name"] = hashed_job.group(1)
        keyed[f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}"] = (
            _without_helm_bookkeeping(obj)
        )
    return keyed


def test_the_default_chart_renders_deploy_base() -> None:
    chart = by_identity(render(None, "namespace.create=true"))
    base = by_identity(kustomize("deploy/base"))
    assert sorted(chart) == sorted(base)
    for key in base:
        assert chart[key] == base[key], key


def test_without_namespace_create_only_the_namespace_is_left_out() -> None:
    """helm install --create-namespace makes the namespace; the chart does not by default."""
    with_namespace = by_identity(render(None, "namespace.create=true"))
    assert set(with_namespace) - set(by_identity(render(None))) == {"Namespace//jobguard"}


@pytest.mark.parametrize(("overlay", "example"), OVERLAYS, ids=[o for o, _ in OVERLAYS])
def test_each_overlay_has_a_values_example_rendering_the_same_objects(
    overlay: str, example: str
) -> None:
    chart = by_identity(render(CHART / "examples" / example, "namespace.create=true"))
    overlaid = by_identity(kustomize(overlay))
    assert sorted(chart) == sorted(overlaid)
    for key in overlaid:
        assert chart[key] == overlaid[key], key


def test_the_chart_serves_the_repository_policies_byte_for_byte() -> None:
    for name in ("default.yaml", "strict.yaml"):
        assert (CHART / "files" / name).read_bytes() == (helm.ROOT / "policies" / name).read_bytes()
    overlay = helm.ROOT / "deploy/overlays/fail-closed/on-rule-error.yaml"
    assert (CHART / "files/on-rule-error.yaml").read_bytes() == overlay.read_bytes()


# -- what the values change ----------------------------------------------------------------------


def certs_job(objects: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    [job] = [o for o in objects if o["kind"] == "Job"]
    assert CERTS_JOB.fullmatch(job["metadata"]["name"]), job["metadata"]["name"]
    return job


def test_the_certs_job_is_renamed_exactly_when_its_pod_template_changes() -> None:
    """An upgrade never patches the finished Job's immutable template: a changed template comes
    with a new name, an unchanged one keeps the name (nothing to do)."""
    name = certs_job(render(None))["metadata"]["name"]
    assert certs_job(render(None, "replicaCount=5"))["metadata"]["name"] == name
    assert certs_job(render(None, "webhook.failurePolicy=Fail"))["metadata"]["name"] == name
    assert certs_job(render(None, "image.tag=0.2.1"))["metadata"]["name"] != name
    assert (
        certs_job(render(None, "certificates.resources.limits.cpu=1"))["metadata"]["name"] != name
    )


def test_no_object_is_a_helm_hook() -> None:
    """Hooks run after `helm install --wait` has waited for the webhook pods, which need the
    certificates Job's Secret first: everything is a plain release object."""
    for values in VALUES:
        for obj in render(values):
            annotations = obj["metadata"].get("annotations", {})
            assert not [a for a in annotations if a.startswith("helm.sh/hook")], obj["kind"]


def webhook_container(objects: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    pod = find(objects, "Deployment", "jobguard")["spec"]["template"]["spec"]
    container: dict[str, Any] = pod["containers"][0]
    return container


def test_the_image_is_pulled_by_digest_when_one_is_given() -> None:
    digest = "sha256:" + "ab" * 32
    objects = render(None, "image.repository=r.example/jobguard", f"image.digest={digest}")
    assert webhook_container(objects)["image"] == f"r.example/jobguard@{digest}"
    certs = certs_job(objects)["spec"]["template"]["spec"]["containers"][0]
    assert certs["image"] == f"r.example/jobguard@{digest}"
    tagged = render(None, "image.tag=0.2.1")
    assert webhook_container(tagged)["image"] == "jobguard:0.2.1"


def test_own_policy_is_served_from_the_configmap() -> None:
    objects = render(CHART / "examples" / "own-policy.yaml")
    data = find(objects, "ConfigMap", "jobguard-policy")["data"]
    assert sorted(data) == ["default.yaml", "own.yaml", "strict.yaml"]
    assert "--policy=/etc/jobguard/policy/own.yaml" in webhook_container(objects)["args"]


def test_the_own_policy_example_loads(tmp_path: Path) -> None:
    """The example's policy is a real policy: written beside the bundled ones as in the
    ConfigMap, the loader accepts it with its extends."""
    from jobguard.policy import load_policy
    from jobguard.rules import RULES_BY_NAME

    data = find(render(CHART / "examples" / "own-policy.yaml"), "ConfigMap", "jobguard-policy")[
        "data"
    ]
    for name, text in data.items():
        (tmp_path / name).write_text(text)
    policy = load_policy([str(tmp_path / "own.yaml")])
    assert policy.settings(RULES_BY_NAME["backoff-limit"]).options.max == 10
    assert [rule.name for rule in policy.custom] == ["team-label"]


def test_a_fixed_replica_count_replaces_the_autoscaler() -> None:
    objects = render(CHART / "examples" / "production.yaml")
    assert find(objects, "Deployment", "jobguard")["spec"]["replicas"] == 3
    assert not [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert "replicas" not in find(render(None), "Deployment", "jobguard")["spec"]


def test_extra_args_and_kubernetes_version_reach_serve() -> None:
    args = webhook_container(render(CHART / "examples" / "production.yaml"))["args"]
    assert args[-4:] == [
        "--kubernetes-version=1.33",
        "--metrics-port=9090",
        "--workers=4",
        "--threads=16",
    ]


def test_the_release_namespace_is_always_excluded_from_the_webhooks() -> None:
    objects = render(CHART / "examples" / "production.yaml")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        selector = find(objects, kind, "jobguard")["webhooks"][0]["namespaceSelector"]
        assert selector["matchExpressions"][0]["values"] == [
            "kube-system",
            "monitoring",
            "cert-manager",
            "jobguard",
        ]


def test_the_network_policy_admits_only_the_webhook_port_from_the_given_peers() -> None:
    policy = find(render(CHART / "examples" / "production.yaml"), "NetworkPolicy", "jobguard")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["ingress"] == [
        {
            "ports": [{"port": "https", "protocol": "TCP"}],
            "from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
        },
        {
            "ports": [{"port": "metrics", "protocol": "TCP"}],
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    }
                }
            ],
        },
    ]


def test_metrics_off_leaves_no_listener_port_or_service() -> None:
    objects = render(None, "metrics.enabled=false")
    container = webhook_container(objects)
    assert "--metrics-port=0" in container["args"]
    assert [p["name"] for p in container["ports"]] == ["https"]
    assert not [o for o in objects if o["metadata"]["name"] == "jobguard-metrics"]
    policy = find(objects, "NetworkPolicy", "jobguard")["spec"]
    assert policy["ingress"] == [{"ports": [{"port": "https", "protocol": "TCP"}]}]


def test_the_service_monitor_scrapes_the_metrics_service() -> None:
    objects = render(CHART / "examples" / "production.yaml")
    monitor = find(objects, "ServiceMonitor", "jobguard")
    service = find(objects, "Service", "jobguard-metrics")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["jobguard"]}
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "scheme": "http", "interval": "30s"}
    ]
    assert [p["name"] for p in service["spec"]["ports"]] == ["metrics"]


def test_another_release_name_renames_everything_consistently() -> None:
    result = run_helm("template", "guard", str(CHART), "--namespace", "platform")
    assert result.returncode == 0, result.stderr
    import yaml

    objects = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    names = {o["metadata"]["name"] for o in objects}
    assert all(name.startswith("guard-jobguard") for name in names), names
    [job] = [o for o in objects if o["kind"] == "Job"]
    assert CERTS_JOB.fullmatch(job["metadata"]["name"])
    assert job["metadata"]["name"].startswith("guard-jobguard-certs-")
    certs = job["spec"]["template"]["spec"]
    args = certs["containers"][0]["args"]
    assert "--service=guard-jobguard" in args
    assert "--webhook-configuration=guard-jobguard" in args
    assert "--tls-secret=guard-jobguard-tls" in args
    webhook = find(objects, "ValidatingWebhookConfiguration", "guard-jobguard")["webhooks"][0]
    assert webhook["clientConfig"]["service"] == {
        "name": "guard-jobguard",
        "namespace": "platform",
        "path": "/validate",
        "port": 443,
    }
    role = find(objects, "Role", "guard-jobguard-certs")
    assert role["rules"][0]["resourceNames"] == ["guard-jobguard-tls", "guard-jobguard-ca"]
