"""Where jobguard's API verdict must equal a real kube-apiserver's at the edges (issue: false
rejections, the kind's case, the suspended Job's mutable template, the version gates).

Each test names the Kubernetes function it follows. The last part is a generated differential
test: an oracle written from those functions, independently of the rule code, judges random
containers, spread constraints and Job updates per version, and jobguard must agree on every one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.core.kubernetes.updates import job_update_errors
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.model import Category
from jobguard.core.paths import field_path
from jobguard.rules.api_structure import misspelt_kind
from tests.ci.conftest import run_jobguard
from tests.helpers import api_only, lint_text, pairs

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example/report:1.0
        resources: {requests: {cpu: "1"}}
"""


def _job() -> dict[str, Any]:
    obj: dict[str, Any] = yaml.safe_load(JOB)
    return obj


def _api(obj: dict[str, Any], version: Version) -> list[tuple[str, str]]:
    text = yaml.safe_dump(obj, sort_keys=False)
    result = lint_text(text, api_only(), version)
    return [
        (lf.finding.rule, lf.finding.field)
        for o in result.objects
        for lf in o.findings
        if lf.finding.category is Category.API
    ]


# -- container restartPolicy: validateContainerRestartPolicy (pkg/apis/core/validation) --------


def _with_container(**fields: Any) -> dict[str, Any]:
    job = _job()
    job["spec"]["template"]["spec"]["containers"][0].update(fields)
    return job


@pytest.mark.parametrize("version", [(1, 35), (1, 36), (1, 37)])
@pytest.mark.parametrize("policy", ["Always", "Never", "OnFailure"])
def test_a_regular_container_may_set_a_restart_policy_from_1_35(
    version: Version, policy: str
) -> None:
    """validateContainers calls validateContainerRestartPolicy where ContainerRestartRules is on
    (on by default from 1.35): Always, Never and OnFailure are supported values."""
    assert _api(_with_container(restartPolicy=policy), version) == []


def test_before_1_35_a_regular_container_may_not_set_one() -> None:
    """validateContainers of 1.34: ``Forbidden: may not be set for non-init containers``."""
    assert _api(_with_container(restartPolicy="Never"), (1, 34)) == [
        ("api-pod-template", "spec.template.spec.containers[0].restartPolicy")
    ]


def test_restart_rules_errors_name_the_rules_path() -> None:
    """validateContainerRestartPolicy reports at ``restartPolicyRules[i].exitCodes.operator``,
    not at ``restartPolicy``; a rule without ``exitCodes`` is ``Required value``."""
    job = _with_container(
        restartPolicy="Never",
        restartPolicyRules=[
            {"action": "Restart", "exitCodes": {"operator": "Between", "values": [1]}},
            {"action": "Restart"},
        ],
    )
    text = yaml.safe_dump(job, sort_keys=False)
    result = lint_text(text, api_only(), (1, 36))
    found = [(lf.finding.field, lf.finding.message) for o in result.objects for lf in o.findings]
    at = "spec.template.spec.containers[0].restartPolicyRules"
    assert found == [
        (
            f"{at}[0].exitCodes.operator",
            'Unsupported value: "Between": supported values: "In", "NotIn"',
        ),
        (f"{at}[1].exitCodes", "Required value: must be specified"),
    ]


# -- repeated YAML keys: kubectl keeps the last value (KUBECTL-YAML.md) -----------------------


def test_a_repeated_key_is_a_warning_naming_the_value_kubectl_keeps() -> None:
    text = JOB.replace(
        "spec:\n  template:", "spec:\n  backoffLimit: 3\n  backoffLimit: 5\n  template:"
    )
    result = lint_text(text)
    (finding,) = [
        lf.finding
        for o in result.objects
        for lf in o.findings
        if lf.finding.rule == "api-duplicate-keys"
    ]
    assert (finding.field, finding.severity.value) == ("spec.backoffLimit", "warning")
    assert finding.message.startswith(
        'key "backoffLimit" is repeated in this mapping: kubectl keeps the last value, 5 '
    )
    assert [r for r, _ in pairs(result) if r.startswith("api-") and r != "api-duplicate-keys"] == []


# -- metadata.resourceVersion: accepted by kubectl create/apply (measured on v1.36) ------------


def test_a_manifest_with_a_resource_version_draws_no_api_error() -> None:
    job = _job()
    job["metadata"]["resourceVersion"] = "81723"
    assert _api(job, (1, 36)) == []


# -- topology spread matchLabelKeys: validateMatchLabelKeysInTopologySpread --------------------


def _spread(key: str) -> dict[str, Any]:
    job = _job()
    pod = job["spec"]["template"]
    pod["metadata"] = {"labels": {"app": "r"}}
    pod["spec"]["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app": "r"}},
            "matchLabelKeys": [key],
        }
    ]
    return job


@pytest.mark.parametrize(
    ("version", "rejected"), [((1, 32), True), ((1, 33), False), ((1, 36), False), ((1, 37), False)]
)
def test_a_match_label_key_also_in_the_selector_is_accepted_from_1_33(
    version: Version, rejected: bool
) -> None:
    """Before MatchLabelKeysInPodTopologySpreadSelectorMerge (1.33) the key may not be in both
    (``exists in both matchLabelKeys and labelSelector``); from 1.33 the server merges it."""
    expected = [
        ("api-pod-scheduling", "spec.template.spec.topologySpreadConstraints[0].matchLabelKeys[0]")
    ]
    assert _api(_spread("app"), version) == (expected if rejected else [])


# -- kind: job under batch/v1: discovery is case-sensitive --------------------------------------


@pytest.mark.parametrize(
    ("kind", "meant"),
    [("job", "Job"), ("JOB", "Job"), ("cronjob", "CronJob"), ("Cronjob", "CronJob")],
)
def test_a_batch_kind_wrong_only_in_case_is_an_error_with_a_did_you_mean(
    kind: str, meant: str
) -> None:
    result = lint_text(JOB.replace("kind: Job", f"kind: {kind}"))
    ((problem),) = result.problems
    assert problem.severity.value == "error"
    assert (problem.line, problem.column) == (2, 1)
    assert problem.message == (
        f'kind: no matches for kind "{kind}" in version "batch/v1"; did you mean "{meant}"? '
        "(kinds are case-sensitive)"
    )
    assert result.skipped == 0


def test_other_kinds_and_other_groups_are_still_skipped() -> None:
    assert misspelt_kind({"apiVersion": "v1", "kind": "job"}) is None
    assert misspelt_kind({"apiVersion": "batch/v1", "kind": "Jobs"}) is None
    assert misspelt_kind({"apiVersion": "batch/v1", "kind": "Job"}) is None
    result = lint_text("apiVersion: v1\nkind: job\nmetadata: {name: x}\n")
    assert (result.problems, result.skipped) == ((), 1)


def test_lint_exits_with_the_error_for_a_lower_case_kind(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB.replace("kind: Job", "kind: job"))
    run = run_jobguard("lint", "job.yaml", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert (
        'job.yaml:2:1: error input kind: no matches for kind "job" in version "batch/v1"; did you mean "Job"?'
        in run.stdout
    )


# -- a suspended Job's template: validatePodTemplateUpdate (pkg/apis/batch/validation) ----------


def _update_errors(old: dict[str, Any], new: dict[str, Any], version: Version) -> list[str]:
    return [field_path(e.path) for e in job_update_errors(old, new, version)]


def _suspended() -> dict[str, Any]:
    job = _job()
    job["spec"]["suspend"] = True
    return job


@pytest.mark.parametrize(
    ("version", "accepted"), [((1, 35), False), ((1, 36), True), ((1, 37), True)]
)
def test_a_suspended_job_may_change_container_resources_from_1_36(
    version: Version, accepted: bool
) -> None:
    """MutablePodResourcesForSuspendedJobs (KEP-5440, beta and on by default from 1.36): a
    suspended Job's containers' and init containers' ``resources`` may change."""
    old = _suspended()
    old["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "i"}]
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "4", "nvidia.com/gpu": "1"},
        "limits": {"nvidia.com/gpu": "1"},
    }
    new["spec"]["template"]["spec"]["initContainers"][0]["resources"] = {
        "limits": {"memory": "1Gi"}
    }
    assert _update_errors(old, new, version) == ([] if accepted else ["spec.template"])


def test_only_resources_and_scheduling_directives_of_a_suspended_job_may_change() -> None:
    old = _suspended()
    changed = copy.deepcopy(old)
    pod = changed["spec"]["template"]["spec"]
    pod["containers"][0]["resources"] = {"requests": {"cpu": "2"}}
    pod["nodeSelector"] = {"pool": "gpu"}
    assert _update_errors(old, changed, (1, 36)) == []
    pod["resources"] = {"limits": {"cpu": "4"}}  # pod-level resources: not in KEP-5440
    assert _update_errors(old, changed, (1, 36)) == ["spec.template"]
    running = _job()
    grown = copy.deepcopy(running)
    grown["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "2"}}
    assert _update_errors(running, grown, (1, 37)) == ["spec.template"]


def test_lint_old_accepts_new_resources_of_a_suspended_job(tmp_path: Path) -> None:
    deployed = JOB.replace("spec:\n  template:", "spec:\n  suspend: true\n  template:")
    (tmp_path / "deployed.yaml").write_text(deployed)
    (tmp_path / "new.yaml").write_text(deployed.replace('cpu: "1"', 'cpu: "8"'))
    run = run_jobguard(
        "lint", "--kubernetes-version", "1.36", "--old", "deployed.yaml", "new.yaml", cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    run = run_jobguard(
        "lint", "--kubernetes-version", "1.35", "--old", "deployed.yaml", "new.yaml", cwd=tmp_path
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "api-job-update" in run.stdout


def test_the_default_version_is_1_37() -> None:
    assert DEFAULT_KUBERNETES_VERSION == (1, 37)


# -- a generated differential test: an oracle written from the Kubernetes functions ------------
#
# The oracles below restate, in a few lines each and without the rule code, what the API server
# does; hypothesis draws inputs over the fields of this file and every version from 1.32 to 1.37,
# and jobguard's verdict (field paths) must equal the oracle's on every draw.

VERSIONS = st.sampled_from([(1, 32), (1, 33), (1, 34), (1, 35), (1, 36), (1, 37)])
_exit_codes = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "operator": st.sampled_from(["In", "NotIn", "Equals", "in"]),
            "values": st.lists(st.integers(1, 255), max_size=3),
        }
    ),
)
_rule = st.fixed_dictionaries(
    {"action": st.sampled_from(["Restart", "Ignore", "restart"]), "exitCodes": _exit_codes}
).map(lambda r: {k: v for k, v in r.items() if v is not None})
_container_fields = st.fixed_dictionaries(
    {
        "restartPolicy": st.sampled_from([None, "Always", "Never", "OnFailure", "never"]),
        "restartPolicyRules": st.one_of(
            st.just([]),
            st.lists(_rule, min_size=1, max_size=3),
            st.just([{"action": "Restart", "exitCodes": {"operator": "In", "values": [1]}}] * 21),
        ),
    }
)


def _restart_oracle(fields: dict[str, Any], init: bool, version: Version) -> list[str]:
    """``validateContainers``/``validateInitContainers`` and, from 1.35 (ContainerRestartRules
    on by default), ``validateContainerRestartPolicy``; paths relative to the container."""
    policy, rules = fields.get("restartPolicy"), fields.get("restartPolicyRules") or []
    if version < (1, 35):
        if policy is None:
            return []
        return ["restartPolicy"] if not init or policy != "Always" else []
    out = []
    if (policy is None and rules) or (
        policy is not None and policy not in ("Always", "Never", "OnFailure")
    ):
        out.append("restartPolicy")
    if len(rules) > 20:
        out.append("restartPolicyRules")
    for i, rule in enumerate(rules):
        if rule.get("action") != "Restart":
            out.append(f"restartPolicyRules[{i}].action")
        codes = rule.get("exitCodes")
        if codes is None:
            out.append(f"restartPolicyRules[{i}].exitCodes")
        elif codes["operator"] not in ("In", "NotIn"):
            out.append(f"restartPolicyRules[{i}].exitCodes.operator")
    return out


@settings(max_examples=120, deadline=None)
@given(fields=_container_fields, init=st.booleans(), version=VERSIONS)
def test_container_restart_policy_matches_the_oracle(
    fields: dict[str, Any], init: bool, version: Version
) -> None:
    job = _job()
    pod = job["spec"]["template"]["spec"]
    container = {
        "name": "c",
        "image": "i",
        **{k: v for k, v in fields.items() if v not in (None, [])},
    }
    if init:
        pod["initContainers"] = [container]
        at = "spec.template.spec.initContainers[0]."
    else:
        pod["containers"].append(container)
        at = "spec.template.spec.containers[1]."
    found = [
        path[len(at) :]
        for rule, path in _api(job, version)
        if rule == "api-pod-template" and path.startswith(at)
    ]
    assert found == _restart_oracle(fields, init, version)


@settings(max_examples=40, deadline=None)
@given(version=VERSIONS, in_selector=st.booleans())
def test_topology_spread_keys_match_the_oracle(version: Version, in_selector: bool) -> None:
    """``validateMatchLabelKeysInTopologySpread`` before the 1.33 selector merge; none after."""
    found = _api(_spread("app" if in_selector else "tier"), version)
    rejected = in_selector and version < (1, 33)
    assert bool(found) == rejected, found


_CHANGES = {
    "container resources": lambda pod: pod["containers"][0].update(
        resources={"limits": {"cpu": "3"}}
    ),
    "init container resources": lambda pod: pod["initContainers"][0].update(
        resources={"requests": {"memory": "1Gi"}}
    ),
    "nodeSelector": lambda pod: pod.update(nodeSelector={"pool": "b"}),
    "tolerations": lambda pod: pod.update(tolerations=[{"operator": "Exists"}]),
    "image": lambda pod: pod["containers"][0].update(image="registry.example/report:2"),
    "pod-level resources": lambda pod: pod.update(resources={"limits": {"cpu": "2"}}),
    "command": lambda pod: pod["initContainers"][0].update(command=["true"]),
}


_STATUSES: dict[str, dict[str, Any]] = {
    "none": {},
    "started": {"startTime": "2026-01-01T00:00:00Z"},
    "started, Suspended condition": {
        "startTime": "2026-01-01T00:00:00Z",
        "conditions": [{"type": "Suspended", "status": "True"}],
    },
    "started, Suspended condition, active pod": {
        "startTime": "2026-01-01T00:00:00Z",
        "active": 1,
        "conditions": [{"type": "Suspended", "status": "True"}],
    },
}


def _update_oracle(changes: list[str], suspended: bool, status: str, version: Version) -> list[str]:
    """``validatePodTemplateUpdate`` with the options of ``validationOptionsForJob``: the
    template is immutable except, for a safely suspended Job, its scheduling directives and,
    from 1.36, its containers' resources. Safely suspended: never started (before 1.36); from
    1.36 no active pod and never started or with the Suspended condition (KEP-5440)."""
    fields = _STATUSES[status]
    started, active = "startTime" in fields, fields.get("active", 0)
    if version < (1, 36):
        safe = suspended and not started
    else:
        safe = suspended and not active and (not started or "conditions" in fields)
    mutable = {"nodeSelector", "tolerations"} if safe else set()
    if safe and version >= (1, 36):
        mutable |= {"container resources", "init container resources"}
    return ["spec.template"] if any(c not in mutable for c in changes) else []


@settings(max_examples=120, deadline=None)
@given(
    changes=st.lists(st.sampled_from(sorted(_CHANGES)), max_size=3, unique=True),
    suspended=st.booleans(),
    status=st.sampled_from(sorted(_STATUSES)),
    version=VERSIONS,
)
def test_job_template_updates_match_the_oracle(
    changes: list[str], suspended: bool, status: str, version: Version
) -> None:
    old = _job()
    old["spec"]["suspend"] = suspended
    old["status"] = _STATUSES[status]
    old["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "i"}]
    new = copy.deepcopy(old)
    for change in changes:
        _CHANGES[change](new["spec"]["template"]["spec"])
    assert _update_errors(old, new, version) == _update_oracle(changes, suspended, status, version)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["Job", "CronJob"]).flatmap(
        lambda k: st.tuples(st.just(k), st.lists(st.booleans(), min_size=len(k), max_size=len(k)))
    ),
    version=VERSIONS,
    resource_version=st.booleans(),
)
def test_kind_case_and_resource_version_match_the_oracle(
    kind: tuple[str, list[bool]], version: Version, resource_version: bool
) -> None:
    """Discovery is case-sensitive (an error unless the kind is exact); ``resourceVersion`` in a
    manifest never is (kubectl create and apply accept it)."""
    canonical, upper = kind
    written = "".join(c.upper() if u else c.lower() for c, u in zip(canonical, upper, strict=True))
    obj: dict[str, Any] = {"apiVersion": "batch/v1", "kind": written, "metadata": {"name": "x"}}
    if resource_version:
        obj["metadata"]["resourceVersion"] = "7"
    if canonical == "Job":
        obj["spec"] = _job()["spec"]
    else:
        obj["spec"] = {"schedule": "0 3 * * *", "jobTemplate": {"spec": _job()["spec"]}}
    result = lint_text(yaml.safe_dump(obj), api_only(), version)
    if written == canonical:
        assert result.problems == ()
        assert [
            p for o in result.objects for p in o.findings if p.finding.category is Category.API
        ] == []
    else:
        assert [p.message.split(";")[1] for p in result.problems] == [
            f' did you mean "{canonical}"? (kinds are case-sensitive)'
        ]


@settings(max_examples=30, deadline=None)
@given(version=VERSIONS, reference=st.sampled_from(["", None, "registry.example/model:1"]))
def test_image_volume_reference_matches_the_oracle(version: Version, reference: str | None) -> None:
    """``validateImageVolumeSource`` requires ``reference`` in a pod template from 1.37 only
    (Kubernetes PR 135989); image volumes exist from 1.35 (ImageVolume on by default)."""
    job = _job()
    image = {} if reference is None else {"reference": reference}
    job["spec"]["template"]["spec"]["volumes"] = [{"name": "model", "image": image}]
    found = [p for r, p in _api(job, version) if r == "api-pod-volumes"]
    rejected = not reference and version >= (1, 37)
    assert found == (["spec.template.spec.volumes[0].image.reference"] if rejected else [])
