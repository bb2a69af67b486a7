"""The Subject's facts, each decided once: who set a field (managedFields Apply sets), whether a
Job is a CronJob's scheduled run, and ratcheting by value."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from jobguard.core.kubernetes.managedfields import applied_fields
from jobguard.core.paths import Key
from jobguard.core.subject import Requester, Subject
from tests.helpers import FIXTURES

CAPTURED = FIXTURES / "admission-1.36"
CONTROLLER = "system:serviceaccount:kube-system:cronjob-controller"


def request_object(number: str) -> dict[str, Any]:
    [path] = CAPTURED.glob(f"{number}-*.json")
    obj: dict[str, Any] = json.loads(path.read_text())["request"]["object"]
    return obj


def entry(fields: dict[str, Any], operation: str = "Apply", **more: Any) -> dict[str, Any]:
    return {"manager": "flux", "operation": operation, "fieldsType": "FieldsV1",
            "fieldsV1": fields, **more}  # fmt: skip


def test_apply_sets_own_fields_list_items_by_key_and_value_and_atomic_values() -> None:
    obj = {
        "spec": {
            "containers": [{"name": "a", "image": "x"}, {"name": "b", "args": ["-v", "-q"]}],
            "finalizers": ["one", "two"],
            "selector": {"matchLabels": {"app": "x"}},
        }
    }
    fields = {
        "f:spec": {
            "f:containers": {'k:{"name":"b"}': {".": {}, "f:args": {}}},
            "f:finalizers": {'v:"two"': {}},
            "f:selector": {},  # a leaf: the whole value
        }
    }
    owned = applied_fields({"managedFields": [entry(fields)]})
    assert owned.owns(obj, ("spec", "containers", 1, "args"))
    assert owned.owns(obj, ("spec", "containers", 1, "args", 0))  # inside an atomic list
    assert not owned.owns(obj, ("spec", "containers", 0, "image"))  # item a is not listed
    assert not owned.owns(obj, ("spec", "containers", 1, "image"))
    assert owned.owns(obj, ("spec", "finalizers", 1))
    assert not owned.owns(obj, ("spec", "finalizers", 0))
    assert owned.owns(obj, ("spec", "selector", "matchLabels", Key("app")))


@pytest.mark.parametrize(
    "bad",
    [
        entry({"f:spec": {"f:x": {}}}, operation="Update"),  # no evidence: lists defaults too
        entry({"f:spec": {"f:x": {}}}, subresource="status"),
        entry({"f:spec": {"f:x": {}}}, fieldsType="FieldsV2"),
        {"operation": "Apply", "fieldsV1": "f:spec"},
        "not an entry",
    ],
)
def test_only_apply_entries_of_the_object_are_evidence(bad: Any) -> None:
    assert not applied_fields({"managedFields": [bad]}).owns({"spec": {"x": 1}}, ("spec", "x"))


def test_malformed_keys_are_no_evidence_and_do_not_raise() -> None:
    fields: dict[str, Any] = {"f:spec": {"f:items": {"k:{not json": {}, "v:[1": {}, "i:0": {}}}}
    owned = applied_fields({"managedFields": [entry(fields)]})
    obj = {"spec": {"items": [{"a": 1}, {"a": 2}]}}
    assert owned.owns(obj, ("spec", "items", 0))  # i:0
    assert not owned.owns(obj, ("spec", "items", 1))


def test_a_server_side_applied_api_default_is_user_set() -> None:
    # 032: flux wrote backoffLimit 6 (the API default) and owns it; suspend it did not write.
    obj = request_object("032")
    subject = Subject.admission("CREATE", obj)
    assert subject is not None
    assert subject.user_set(("spec", "backoffLimit"))
    assert subject.user_set(("spec", "completions"))
    assert not subject.user_set(("spec", "suspend"))
    stripped = copy.deepcopy(obj)
    del stripped["metadata"]["managedFields"]
    bare = Subject.admission("CREATE", stripped)
    assert bare is not None and not bare.user_set(("spec", "backoffLimit"))


def test_a_cronjobs_applied_fields_are_found_at_its_own_and_its_templates_paths() -> None:
    subject = Subject.admission("CREATE", request_object("034"))
    assert subject is not None
    assert subject.user_set(("spec", "concurrencyPolicy"))  # Allow, the API default
    assert subject.user_set(("spec", "jobTemplate", "spec", "backoffLimit"))
    assert not subject.user_set(("spec", "successfulJobsHistoryLimit"))


@pytest.mark.parametrize(
    ("username", "controller", "scheduled"),
    [
        (CONTROLLER, True, True),
        ("system:kube-controller-manager", True, True),
        ("admin", True, False),
        (CONTROLLER, False, False),
    ],
)
def test_a_scheduled_run_needs_the_controllers_identity_and_a_controlling_owner(
    username: str, controller: bool, scheduled: bool
) -> None:
    obj = request_object("028")
    obj["metadata"]["ownerReferences"][0]["controller"] = controller
    subject = Subject.admission("CREATE", obj, requester=Requester(username))
    assert subject is not None and subject.scheduled_run is scheduled
    manifest = Subject.manifest(obj)
    assert manifest is not None and not manifest.scheduled_run  # a file: never


def test_the_controller_identities_come_from_the_policy() -> None:
    obj = request_object("028")
    default = Subject.admission("CREATE", obj, requester=Requester(CONTROLLER))
    assert default is not None and default.scheduled_run
    other = Subject.admission(
        "CREATE", obj, requester=Requester(CONTROLLER), controllers=frozenset({"my-controller"})
    )
    assert other is not None and not other.scheduled_run


def test_a_stored_job_is_a_run_only_when_its_cronjob_exists_by_uid() -> None:
    obj = request_object("028")
    uid = obj["metadata"]["ownerReferences"][0]["uid"]
    for uids, scheduled in ((None, False), (set(), False), ({"other"}, False), ({uid}, True)):
        subject = Subject.stored(obj, cronjob_uids=uids)
        assert subject is not None and subject.scheduled_run is scheduled
    obj["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] = "manual"
    manual = Subject.stored(obj, cronjob_uids={uid})
    assert manual is not None and not manual.scheduled_run


def test_ratcheting_forgives_a_violation_only_at_an_unchanged_value() -> None:
    [path] = CAPTURED.glob("040-*.json")
    old = json.loads(path.read_text())["request"]["oldObject"]
    new = request_object("040")
    subject = Subject.admission("UPDATE", new, old_object=old)
    assert subject is not None
    at = ("spec", "jobTemplate", "spec", "backoffLimit")
    violation = ("backoff-limit", at)
    assert not subject.unchanged(at) and not subject.forgiven(violation, {violation})
    same = Subject.admission("UPDATE", copy.deepcopy(old), old_object=old)
    assert same is not None and same.forgiven(violation, {violation})
    assert not same.forgiven(violation, set())  # the old object did not have it
