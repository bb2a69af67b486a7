"""README "Install in a cluster": every command in it is run here, as far as a machine without a
cluster allows: `helm install` with --dry-run=client (the published OCI chart replaced by this
checkout's chart), `helm upgrade` as `helm template` with the same values, `kubectl apply -k` as
`kubectl kustomize`. Everything they render is valid Kubernetes 1.30 to 1.37 (strict schemas)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

from tests.deploy.kube import render as kustomize
from tests.install import helm
from tests.install.helm import CHART, ROOT
from tests.install.test_chart import CUSTOM_KINDS, K8S_VERSIONS

PUBLISHED_CHART = "oci://ghcr.io/<owner>/charts/jobguard"
OVERLAYS = ("strict", "fail-closed", "cert-manager", "audit")


def install_section() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Install in a cluster\n(.*?)^## ", text, re.MULTILINE | re.DOTALL)
    assert match, "README has no 'Install in a cluster' section"
    return match.group(1)


def commands() -> list[list[str]]:
    """The shell commands of the section's sh blocks, continuation lines joined, comments cut."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", install_section(), re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                found.append(words)
    return found


def validate(objects: list[dict[str, Any]]) -> None:
    assert objects
    for version in K8S_VERSIONS:
        for obj in objects:
            if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
                with pytest.raises(SchemaNotFoundError):
                    kubernetes_validate.validate(obj, version, strict=True)
            else:
                kubernetes_validate.validate(obj, version, strict=True)


def local_chart(words: list[str]) -> list[str]:
    """The command with the published chart replaced by this checkout's (same version)."""
    chart_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
    index = words.index(PUBLISHED_CHART)
    assert words[index + 1 : index + 3] == ["--version", chart_version]
    return [*words[:index], str(CHART), *words[index + 3 :]]


def with_user_files(words: list[str], where: Path) -> list[str]:
    """`<owner>` filled in, and a policy file where the command names one."""
    out = []
    for word in words:
        word = word.replace("<owner>", "example")
        if word.startswith("policy.own=") and word.endswith(".yaml"):
            policy = where / word.split("=", 1)[1]
            shutil.copy(ROOT / "examples/custom-rules/policy.yaml", policy)
        out.append(word)
    return out


def manifests(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict) and "kind" in doc]


def test_the_section_shows_helm_first_then_kustomize() -> None:
    tools = [words[0] for words in commands()]
    assert tools == ["helm", "helm", "kubectl"]
    for overlay in OVERLAYS:
        assert overlay in install_section(), overlay


@pytest.fixture(scope="module")
def helm_binary() -> str:
    try:
        return helm.helm()
    except helm.HelmMissing as missing:
        pytest.skip(str(missing))


def test_helm_install_renders_valid_objects(helm_binary: str, tmp_path: Path) -> None:
    [install] = [w for w in commands() if w[:2] == ["helm", "install"]]
    words = with_user_files(local_chart(install), tmp_path)
    result = subprocess.run(
        [helm_binary, *words[1:], "--dry-run=client"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    objects = manifests(result.stdout.split("MANIFEST:", 1)[1])
    validate(objects)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/example/jobguard:0.2.0"
    assert "Job" in {o["kind"] for o in objects}  # the certificates Job, no hook


def test_helm_upgrade_with_your_own_policy_renders_valid_objects(
    helm_binary: str, tmp_path: Path
) -> None:
    [upgrade] = [w for w in commands() if w[:2] == ["helm", "upgrade"]]
    words = with_user_files(local_chart(upgrade), tmp_path)
    # No cluster holds a release to upgrade: render the same chart and values instead.
    template = ["template", *[w for w in words[2:] if w != "--reuse-values"]]
    result = subprocess.run(
        [helm_binary, *template],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    objects = manifests(result.stdout)
    validate(objects)
    policy_map = next(o for o in objects if o["kind"] == "ConfigMap")
    assert policy_map["data"]["own.yaml"] == (tmp_path / "my-policy.yaml").read_text()
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--policy=/etc/jobguard/policy/own.yaml" in args


@pytest.mark.parametrize(
    "kustomization", ["deploy/base", *(f"deploy/overlays/{o}" for o in OVERLAYS)]
)
def test_kubectl_apply_k_renders_valid_objects(kustomization: str) -> None:
    [apply] = [w for w in commands() if w[:2] == ["kubectl", "apply"]]
    assert apply == ["kubectl", "apply", "-k", "deploy/base"]
    validate(list(kustomize(kustomization)))
