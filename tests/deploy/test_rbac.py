"""The jobguard-certs Role and ClusterRole grant exactly what `jobguard certs` uses.

The calls are not guessed: the real command runs against the local API-server stand-in
(tests/certs/fake_apiserver.py), its request log is turned into RBAC request attributes
(verb, resource, namespace, name) the way kube-apiserver does, and each one is checked against
the rules rendered from deploy/base. Then the other way round: every permission the rules grant
was used by some call, so nothing is granted "just in case".
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from tests.certs.fake_apiserver import ApiState, fake_apiserver
from tests.deploy.kube import NAMESPACE, find, render

VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}
_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/v1)"
    r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?$"
)


class Attributes(NamedTuple):
    verb: str
    group: str
    resource: str
    namespace: str
    name: str


def attributes(method: str, path: str) -> Attributes:
    match = _PATH.match(path)
    assert match, path
    return Attributes(
        VERBS[method],
        match["group"] or "",
        match["resource"],
        match["namespace"] or "",
        match["name"] or "",
    )


def granted(rules: list[dict[str, Any]], namespace: str) -> set[Attributes]:
    """Every (verb, group, resource, namespace, name) the rules allow; '' name = any name."""
    return {
        Attributes(verb, group, resource, namespace, name)
        for rule in rules
        for verb in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for name in rule.get("resourceNames") or [""]
    }


def allows(permissions: set[Attributes], request: Attributes) -> bool:
    return request in permissions or request._replace(name="") in permissions


def run_certs(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobguard", "certs", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_certs_role_grants_exactly_the_calls_jobguard_certs_makes(tmp_path: Path) -> None:
    objects = render("deploy/base")
    permissions = granted(find(objects, "Role", "jobguard-certs")["rules"], NAMESPACE) | granted(
        find(objects, "ClusterRole", "jobguard-certs")["rules"], ""
    )
    for binding_kind, role_kind in (("RoleBinding", "Role"), ("ClusterRoleBinding", "ClusterRole")):
        binding = find(objects, binding_kind, "jobguard-certs")
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": role_kind,
            "name": "jobguard-certs",
        }
        assert [
            (s["kind"], s["name"], s.get("namespace", NAMESPACE)) for s in binding["subjects"]
        ] == [("ServiceAccount", "jobguard-certs", NAMESPACE)]

    state: ApiState
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            state.add(copy.deepcopy(find(objects, kind, "jobguard")))
        directory = str(tmp_path / "certs")
        run_certs("--dir", directory, "--kubeconfig", str(kubeconfig))  # install
        run_certs("--dir", directory, "--kubeconfig", str(kubeconfig), "--new-ca")  # re-key
        run_certs("--dir", str(tmp_path / "empty"), "--kubeconfig", str(kubeconfig))  # the Job

    used = {attributes(method, path) for method, path, _ in state.requests}
    assert sorted(r for r in used if not allows(permissions, r)) == []
    # Least privilege: each grant was needed by some call (a create carries no name).
    unused = {p for p in permissions if not any(allows({p}, r) for r in used)}
    assert unused == set()
    assert {r.verb for r in used} == {"get", "create", "update", "patch"}
