"""The mutating webhook on UPDATE, on real requests captured from kube-apiserver v1.36.2
(tests/fixtures/admission-1.36, see its README.md and SCENARIOS.txt), under the bundled
default policy.

* 019, ``kubectl replace`` of a CronJob from a manifest without restartPolicy: the API server
  rejected it after the webhook answered without a patch; now the patch makes it valid;
* a Job UPDATE never patches an immutable path, and a replaced Job gets back the restartPolicy
  jobguard set at CREATE (its template is immutable);
* re-applying an unchanged manifest is a no-op;
* the validating webhook still does not block an UPDATE on a violation it did not introduce.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from jobguard.core.kubernetes.updates import job_update_errors
from jobguard.core.paths import MISSING, lookup
from jobguard.core.subject import LAST_APPLIED, Subject
from jobguard.policy import load_policy
from jobguard.webhook import admission
from jobguard.webhook.review import parse_review
from tests.helpers import FIXTURES
from tests.webhook.support import Server, SessionCA, patch_ops, review_for, running_server

CAPTURED = FIXTURES / "admission-1.36"
DEFAULT_POLICY = load_policy(["jobguard:default"])
VERSION = (1, 36)
CRON_POD = "/spec/jobTemplate/spec/template/spec"


def captured(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURED / name).read_text())
    return data


def captured_object(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = copy.deepcopy(captured(name)["request"]["object"])
    return obj


def mutate(review: dict[str, Any]) -> admission.Outcome:
    return admission.mutate(parse_review(review), DEFAULT_POLICY, VERSION)


def ops_of(outcome: admission.Outcome) -> list[dict[str, Any]]:
    return patch_ops(json.loads(outcome.answer.body))


def patched(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = jsonpatch.JsonPatch(ops).apply(obj)
    return result


def stored_after_create(name: str) -> dict[str, Any]:
    """The object the API server stores for a captured CREATE when jobguard mutates it."""
    review = captured(name)
    return patched(review["request"]["object"], ops_of(mutate(review)))


@pytest.fixture(scope="module")
def default_server(
    tmp_path_factory: pytest.TempPathFactory, test_ca: SessionCA
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("default-policy")
    with running_server(directory, test_ca, ["jobguard:default"]) as running:
        yield running


# -- CronJob: all of its spec may change --------------------------------------------------------


def test_the_replaced_cronjob_019_gets_a_patch_that_makes_it_valid(default_server: Server) -> None:
    review = captured("019-mutate-CronJob-UPDATE-nightly-report.json")
    answer = default_server.review("mutate", review)
    # The manifest of the replace has neither restartPolicy (the API server defaulted Always,
    # which it then rejects for a Job template) nor backoffLimit (2 before): both are the
    # update's doing, so both get the policy's fix. The completions/parallelism finding was
    # there before the update (the CronJob was created unpatched) and is left alone.
    assert patch_ops(answer) == [
        {"op": "replace", "path": f"{CRON_POD}/restartPolicy", "value": "Never"},
        {"op": "add", "path": "/spec/jobTemplate/spec/backoffLimit", "value": 6},
    ]
    assert answer["response"]["warnings"] == [
        "jobguard restart-policy: spec.jobTemplate.spec.template.spec.restartPolicy: "
        "set restartPolicy: Never",
        "jobguard backoff-limit: spec.jobTemplate.spec.backoffLimit: set backoffLimit: 6",
    ]
    fixed = patched(review["request"]["object"], patch_ops(answer))
    # What the API server rejected (see SCENARIOS.txt) is gone: the validating webhook, run as
    # the API server would next, admits it.
    validate_review = review_for(fixed, operation="UPDATE", old=review["request"]["oldObject"])
    assert default_server.review("validate", validate_review)["response"]["allowed"] is True
    assert fixed["spec"]["schedule"] == "0 4 * * *"  # the update itself went through


def test_a_kubectl_apply_of_the_cronjob_020_introduces_nothing_and_is_not_patched() -> None:
    assert ops_of(mutate(captured("020-mutate-CronJob-UPDATE-nightly-report.json"))) == []


def test_a_cronjob_update_dropping_backoff_limit_is_patched_as_on_create() -> None:
    strict = load_policy(["jobguard:strict"])
    old = captured_object("017-mutate-CronJob-CREATE-nightly-report.json")
    old = patched(old, ops_of(admission.mutate(parse_review(review_for(old)), strict, VERSION)))
    assert old["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 2
    new = copy.deepcopy(old)
    del new["spec"]["jobTemplate"]["spec"]["backoffLimit"]
    del new["metadata"]["annotations"]  # kubectl replace: no last-applied record
    outcome = admission.mutate(
        parse_review(review_for(new, operation="UPDATE", old=old)), strict, VERSION
    )
    assert ops_of(outcome) == [
        {"op": "add", "path": "/spec/jobTemplate/spec/backoffLimit", "value": 3}
    ]
    fixed = patched(new, ops_of(outcome))
    verdict = admission.validate(
        parse_review(review_for(fixed, operation="UPDATE", old=old)), strict, VERSION
    )
    assert verdict.decision == admission.ALLOWED


# -- Job: only its mutable fields ---------------------------------------------------------------


def test_the_captured_job_updates_are_not_patched() -> None:
    for name in ("012-mutate-Job-UPDATE-pi.json", "014-mutate-Job-UPDATE-pi.json"):
        assert ops_of(mutate(captured(name))) == [], name


def test_a_replaced_job_gets_back_the_restart_policy_jobguard_set(default_server: Server) -> None:
    # 003 was created without restartPolicy: jobguard set Never (and a TTL). `kubectl replace`
    # of the same manifest sends Always again, and the pod template of a Job is immutable.
    stored = stored_after_create("003-mutate-Job-CREATE-no-restart-policy.json")
    assert stored["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    new = captured_object("003-mutate-Job-CREATE-no-restart-policy.json")
    assert job_update_errors(stored, new, VERSION) != []  # as sent, the API server rejects it
    answer = default_server.review("mutate", review_for(new, operation="UPDATE", old=stored))
    assert patch_ops(answer) == [
        {"op": "replace", "path": "/spec/template/spec/restartPolicy", "value": "Never"},
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 259200},
    ]
    assert answer["response"]["warnings"] == [
        "jobguard ttl-after-finished: spec.ttlSecondsAfterFinished: set "
        "ttlSecondsAfterFinished: 259200 (3d)",
        'jobguard: spec.template.spec.restartPolicy: kept "Never" (immutable in an existing '
        "Job; the update would be rejected)",
    ]
    fixed = patched(new, patch_ops(answer))
    assert job_update_errors(stored, fixed, VERSION) == []
    assert fixed["spec"] == stored["spec"]  # the same manifest: the same Job


def test_a_job_whose_update_changes_the_template_is_not_restored() -> None:
    # Restoring restartPolicy would not make this update acceptable (the image changed too):
    # the webhook adds nothing the API server rejects anyway.
    stored = stored_after_create("003-mutate-Job-CREATE-no-restart-policy.json")
    new = captured_object("003-mutate-Job-CREATE-no-restart-policy.json")
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    ops = ops_of(mutate(review_for(new, operation="UPDATE", old=stored)))
    assert ops == [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 259200}]


Change = Callable[[dict[str, Any]], None]


def _set(path: tuple[str | int, ...], value: Any) -> Change:
    def change(obj: dict[str, Any]) -> None:
        parent: Any = obj
        for key in path[:-1]:
            parent = parent[key] if isinstance(key, int) else parent.setdefault(key, {})
        parent[path[-1]] = value

    return change


def _drop(path: tuple[str, ...]) -> Change:
    def change(obj: dict[str, Any]) -> None:
        parent = lookup(obj, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)

    return change


POD = ("spec", "template", "spec")
#: What a manifest may change in an existing Job, allowed or not by the API server.
CHANGES: dict[str, Change] = {
    "nothing": lambda obj: None,
    "restart-policy-defaulted": _set((*POD, "restartPolicy"), "Always"),
    "restart-policy-on-failure": _set((*POD, "restartPolicy"), "OnFailure"),
    "ttl-dropped": _drop(("spec", "ttlSecondsAfterFinished")),
    "backoff-over-max": _set(("spec", "backoffLimit"), 50),
    "parallelism": _set(("spec", "parallelism"), 4),
    "completions": _set(("spec", "completions"), 7),
    "suspended": _set(("spec", "suspend"), True),
    "image": _set((*POD, "containers", 0, "image"), "busybox:1.37"),
    "label": _set(("metadata", "labels", "team"), "data"),
}
JOB_CREATES = sorted(p.name for p in CAPTURED.glob("*-mutate-Job-CREATE-*.json"))


@pytest.mark.parametrize(
    ("create", "first", "second"),
    [
        (c, a, b)
        for c in JOB_CREATES
        for a, b in itertools.combinations_with_replacement(sorted(CHANGES), 2)
    ],
)
def test_a_job_update_never_patches_an_immutable_path(create: str, first: str, second: str) -> None:
    stored = stored_after_create(create)
    new = copy.deepcopy(stored)
    new["metadata"].get("annotations", {}).pop(LAST_APPLIED, None)
    CHANGES[first](new)
    CHANGES[second](new)
    ops = ops_of(mutate(review_for(new, operation="UPDATE", old=stored)))
    subject = Subject.admission("UPDATE", new, old_object=stored, version=VERSION)
    assert subject is not None
    for op in ops:
        path = tuple(int(p) if p.isdigit() else p for p in op["path"].strip("/").split("/"))
        # Either a path an existing Job may change, or its stored value put back.
        assert subject.may_change(path) or op.get("value", MISSING) == lookup(stored, path), op
    before = {e.path for e in job_update_errors(stored, new, VERSION)}
    after = {e.path for e in job_update_errors(stored, patched(new, ops), VERSION)}
    assert after <= before


# -- re-applying an unchanged manifest ----------------------------------------------------------


def test_reapplying_001_as_an_update_yields_no_patch() -> None:
    obj = captured_object("001-mutate-Job-CREATE-pi.json")
    assert ops_of(mutate(review_for(obj, operation="UPDATE", old=obj))) == []


@pytest.mark.parametrize(
    "create",
    [
        *JOB_CREATES,
        "016-mutate-CronJob-CREATE-no-rp-cron.json",
        "017-mutate-CronJob-CREATE-nightly-report.json",
    ],
)
def test_replacing_with_the_same_manifest_leaves_the_stored_object_as_it_is(create: str) -> None:
    # kubectl replace (or a server-side apply by another manager) sends the manifest again,
    # defaulted; jobguard's earlier fixes are missing from it and come back, to the same values.
    stored = stored_after_create(create)
    new = captured_object(create)
    ops = ops_of(mutate(review_for(new, operation="UPDATE", old=stored)))
    assert patched(new, ops)["spec"] == stored["spec"]
    # Client-side apply of the same manifest sends the stored object itself: no patch at all.
    assert ops_of(mutate(review_for(stored, operation="UPDATE", old=stored))) == []


# -- the validating webhook on UPDATE -----------------------------------------------------------


def test_validate_still_does_not_block_a_violation_the_update_did_not_introduce(
    tmp_path: Path,
) -> None:
    old = captured_object("016-mutate-CronJob-CREATE-no-rp-cron.json")  # restartPolicy Always
    new = copy.deepcopy(old)
    new["metadata"].setdefault("labels", {})["owner"] = "me"
    review = parse_review(review_for(new, operation="UPDATE", old=old))
    assert ops_of(admission.mutate(review, DEFAULT_POLICY, VERSION)) == []
    verdict = admission.validate(review, DEFAULT_POLICY, VERSION)
    assert verdict.decision == admission.ALLOWED
    assert [f.rule for f in verdict.blocking] == []
    assert any(
        "(existing, not blocking)" in w
        for w in json.loads(verdict.answer.body)["response"]["warnings"]
    )
