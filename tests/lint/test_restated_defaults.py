"""A finding whose only fix writes what the Job gets anyway (the API server's default) is info
under the default policy, whatever the rule's action; ``restated_api_defaults: action`` (as in
the strict policy) keeps the action's severity."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobguard.core.kubernetes.defaults import effective_default, restates_defaults
from jobguard.core.model import SetValue
from jobguard.policy import PolicyError, load_policy
from jobguard.policy.loader import BUILTIN_PREFIX
from tests.helpers import lint_text

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: perl, resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}}]
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: pi, image: perl, resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}}]
"""


def severities(text: str, policy_name: str = "default") -> dict[tuple[str, str], str]:
    policy = load_policy([f"{BUILTIN_PREFIX}{policy_name}"])
    result = lint_text(text, policy)
    return {
        (lf.finding.rule, lf.finding.field): lf.finding.severity.value
        for obj in result.objects
        for lf in obj.findings
    }


def test_counts_and_backoff_the_api_server_fills_in_are_info_under_the_default_policy() -> None:
    assert severities(JOB) == {
        ("completions-parallelism", "spec.completions"): "info",
        ("completions-parallelism", "spec.parallelism"): "info",
        ("backoff-limit", "spec.backoffLimit"): "info",
        # No TTL is filled in by the API server: the finished Job stays forever.
        ("ttl-after-finished", "spec.ttlSecondsAfterFinished"): "warning",
    }


def test_a_cronjob_template_counts_as_the_job_it_creates() -> None:
    found = severities(CRONJOB)
    assert found[("backoff-limit", "spec.jobTemplate.spec.backoffLimit")] == "info"
    assert found[("completions-parallelism", "spec.jobTemplate.spec.completions")] == "info"


def test_strict_asks_for_explicit_values() -> None:
    found = severities(JOB, "strict")
    assert found[("completions-parallelism", "spec.completions")] == "error"
    # strict's backoffLimit default is 3, not the API server's 6: never a restated default.
    assert found[("backoff-limit", "spec.backoffLimit")] == "error"


def test_the_policy_key_restores_the_actions_severity(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nextends: [jobguard:default]\n"
        "restated_api_defaults: action\n"
    )
    result = lint_text(JOB, load_policy([str(policy_file)]))
    found = {
        lf.finding.field: lf.finding.severity.value for o in result.objects for lf in o.findings
    }
    assert found["spec.completions"] == "warning"
    assert found["spec.backoffLimit"] == "warning"


def test_a_bad_value_is_a_policy_error(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrestated_api_defaults: hide\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy([str(policy_file)])
    (problem,) = info.value.problems
    assert problem.message.endswith("must be one of info, action, not 'hide'")


@pytest.mark.parametrize(
    ("relative", "spec", "default"),
    [
        (("backoffLimit",), {}, 6),
        (("backoffLimit",), {"backoffLimitPerIndex": 1}, 2147483647),
        (("completions",), {}, 1),
        (("completions",), {"parallelism": 4}, None),  # a work queue: no completions
        (("parallelism",), {"completions": 8}, 1),
        (("podReplacementPolicy",), {}, "TerminatingOrFailed"),
        (("podReplacementPolicy",), {"podFailurePolicy": {"rules": []}}, "Failed"),
        (("ttlSecondsAfterFinished",), {}, None),
    ],
)
def test_effective_defaults(
    relative: tuple[str, ...], spec: dict[str, object], default: object
) -> None:
    assert effective_default(relative, spec) == default


def test_only_edits_that_all_write_defaults_restate_them() -> None:
    spec = ("spec",)
    assert restates_defaults((SetValue(("spec", "backoffLimit"), 6),), spec, {})
    assert not restates_defaults((SetValue(("spec", "backoffLimit"), 3),), spec, {})
    assert not restates_defaults((SetValue(("spec", "backoffLimit"), True),), spec, {})
    assert not restates_defaults(
        (SetValue(("spec", "backoffLimit"), 6), SetValue(("spec", "ttlSecondsAfterFinished"), 60)),
        spec,
        {},
    )
    assert not restates_defaults((), spec, {})


def test_a_defaulted_objects_value_equal_to_the_dependent_default_counts_as_unset() -> None:
    from jobguard.core.view import JobView

    spec = {
        "podFailurePolicy": {"rules": []},
        "podReplacementPolicy": "Failed",
        "backoffLimitPerIndex": 1,
        "backoffLimit": 2147483647,
        "template": {"spec": {"containers": []}},
    }
    obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}, "spec": spec}
    view = JobView.of(obj, defaulted=True)
    assert view is not None
    assert not view.user_set("podReplacementPolicy")
    assert not view.user_set("backoffLimit")
    spec["podReplacementPolicy"] = "TerminatingOrFailed"  # not what the API server fills in here
    assert view.user_set("podReplacementPolicy")
