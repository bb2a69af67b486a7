"""The webhook's decisions in process (Flask test_client and the pure admission functions):
how API defaults are read on the captured requests, which fixes the mutating webhook applies
under each policy action, scope, and the answer invariants."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from jobguard.core import subject as subject_module
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules import validating_rules
from jobguard.webhook import responses
from jobguard.webhook.app import create_app
from jobguard.webhook.settings import Settings
from tests.webhook.support import (
    all_rules_off,
    fixture_object,
    load_review,
    patch_ops,
    review_for,
    write_policy,
)

RESTART = ("template", "spec", "restartPolicy")


def client_for(tmp_path: Path, rules: dict[str, Any], **top: Any) -> FlaskClient:
    policy = write_policy(tmp_path / "policy.yaml", rules, **top)
    settings = Settings(policy_paths=(str(all_rules_off(tmp_path)), str(policy)))
    return create_app(settings).test_client()


def post(client: FlaskClient, webhook: str, review: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/{webhook}", data=json.dumps(review), content_type="application/json")
    assert r.status_code == 200, r.data
    body: dict[str, Any] = r.get_json()
    assert body["response"]["uid"] == review["request"]["uid"]
    return body


CRONJOB_CONTROLLER = "system:serviceaccount:kube-system:cronjob-controller"

# -- API defaults on the captured requests ----------------------------------------------------


def admitted_view(obj: dict[str, Any]) -> JobView | None:
    """The mutating webhook's view of an admitted object."""
    subject = Subject.admission("CREATE", obj)
    return None if subject is None else subject.view


def test_kubectl_apply_job_counts_only_what_its_manifest_set() -> None:
    view = admitted_view(fixture_object("001-mutate-Job-CREATE-pi.json"))
    assert view is not None and view.applied is not None
    assert view.user_set("backoffLimit")  # 4, in the applied manifest
    assert view.user_set(*RESTART)  # Never, in the applied manifest
    assert not view.user_set("completions")  # 1, filled by the API server
    assert not view.user_set("parallelism")
    assert not view.user_set("completionMode")
    assert not view.user_set("suspend")


def test_job_without_last_applied_treats_api_default_values_as_unset() -> None:
    # 003: `kubectl create` of a Job with parallelism 3 and no restartPolicy. managedFields lists
    # f:backoffLimit and f:restartPolicy, but only because the API server defaulted them.
    obj = fixture_object("003-mutate-Job-CREATE-noname.json")
    fields = obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    assert "f:backoffLimit" in fields and "f:restartPolicy" in fields["f:template"]["f:spec"]
    view = admitted_view(obj)
    assert view is not None and view.applied is None
    assert not view.user_set("backoffLimit")  # 6: the API default
    assert not view.user_set(*RESTART)  # Always: the pod default
    assert view.user_set("parallelism")  # 3 is no default
    assert not view.user_set("completions")  # a work-queue Job: stays null


def test_indexed_job_applied_manifest_shows_its_own_values() -> None:
    view = admitted_view(fixture_object("006-mutate-Job-CREATE-indexed-render.json"))
    assert view is not None
    assert [view.user_set(f) for f in ("completions", "parallelism", "completionMode")] == [
        True,
        True,
        True,
    ]
    assert view.user_set("ttlSecondsAfterFinished")
    assert not view.user_set("backoffLimit")  # 6 came from the API server


def test_cronjob_template_is_not_defaulted_except_its_pod() -> None:
    view = admitted_view(fixture_object("025-mutate-CronJob-CREATE-cleanup-tmp.json"))
    assert view is not None and view.is_cronjob
    assert view.user_set("backoffLimit")  # 2, and CronJob templates get no Job defaults
    assert not view.user_set(*RESTART)  # Always, the pod default, not in the manifest
    assert view.at(*RESTART) == ("spec", "jobTemplate", "spec", *RESTART)


@pytest.mark.parametrize(
    "annotation",
    ["{not json", "[1, 2]", '{"kind": "CronJob", "spec": {}}', "x" * (1024 * 1024 + 1)],
)
def test_unusable_last_applied_annotation_is_ignored(annotation: str) -> None:
    obj = fixture_object("001-mutate-Job-CREATE-pi.json")
    obj["metadata"]["annotations"][subject_module.LAST_APPLIED] = annotation
    assert subject_module.last_applied(obj) is None
    view = admitted_view(obj)
    assert view is not None and view.applied is None


# -- mutate under each policy action ----------------------------------------------------------


@pytest.mark.parametrize(("action", "patched"), [("deny", True), ("warn", True), ("audit", False)])
def test_mutate_applies_safe_fixes_of_deny_and_warn_rules_only(
    tmp_path: Path, action: str, patched: bool
) -> None:
    client = client_for(tmp_path, {"restart-policy": {"action": action}})
    review = load_review("003-mutate-Job-CREATE-noname.json")
    answer = post(client, "mutate", review)
    expected = (
        [{"op": "replace", "path": "/spec/template/spec/restartPolicy", "value": "Never"}]
        if patched
        else []
    )
    assert patch_ops(answer) == expected


def test_mutate_uses_the_policy_default_value(tmp_path: Path) -> None:
    client = client_for(tmp_path, {"restart-policy": {"action": "deny", "default": "OnFailure"}})
    answer = post(client, "mutate", load_review("025-mutate-CronJob-CREATE-cleanup-tmp.json"))
    assert patch_ops(answer) == [
        {
            "op": "replace",
            "path": "/spec/jobTemplate/spec/template/spec/restartPolicy",
            "value": "OnFailure",
        }
    ]
    assert answer["response"]["warnings"] == [
        "jobguard restart-policy: spec.jobTemplate.spec.template.spec.restartPolicy: "
        "set restartPolicy: OnFailure"
    ]


def test_mutate_leaves_an_update_alone_that_introduces_no_finding(tmp_path: Path) -> None:
    # UPDATEs are planned like CREATEs now (tests/webhook/test_update*.py), but a finding the
    # existing object already had is not the update's doing: a label change patches nothing.
    client = client_for(tmp_path, {"restart-policy": {"action": "deny"}})
    old = fixture_object("025-mutate-CronJob-CREATE-cleanup-tmp.json")  # restartPolicy Always
    new = json.loads(json.dumps(old))
    new["metadata"]["labels"]["owner"] = "me"
    answer = post(client, "mutate", review_for(new, operation="UPDATE", old=old))
    assert answer["response"] == {"uid": answer["response"]["uid"], "allowed": True}


def test_request_namespace_is_used_when_the_object_has_none(tmp_path: Path) -> None:
    client = client_for(
        tmp_path, {"restart-policy": {"action": "deny"}}, scope={"namespaces": {"exclude": ["ops"]}}
    )
    obj = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    del obj["metadata"]["namespace"]
    review = review_for(obj)
    review["request"]["namespace"] = "ops"
    assert post(client, "validate", review)["response"]["allowed"] is True
    review["request"]["namespace"] = "batch-demo"
    assert post(client, "validate", review)["response"]["allowed"] is True  # OnFailure allowed
    client = client_for(
        tmp_path,
        {"restart-policy": {"action": "deny", "allowed": ["Never"]}},
        scope={"namespaces": {"exclude": ["ops"]}},
    )
    assert post(client, "validate", review)["response"]["allowed"] is False
    review["request"]["namespace"] = "ops"
    assert post(client, "validate", review)["response"]["allowed"] is True


def test_label_scope_of_a_rule_decides_whether_it_runs(tmp_path: Path) -> None:
    client = client_for(
        tmp_path,
        {
            "restart-policy": {
                "action": "deny",
                "allowed": ["Never"],
                "scope": {"labels": {"matchLabels": {"tier": "batch"}}},
            }
        },
    )
    obj = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    assert post(client, "validate", review_for(obj))["response"]["allowed"] is True
    obj["metadata"]["labels"]["tier"] = "batch"
    assert post(client, "validate", review_for(obj))["response"]["allowed"] is False


def test_status_subresource_is_not_judged(tmp_path: Path) -> None:
    client = client_for(tmp_path, {"restart-policy": {"action": "deny", "allowed": ["Never"]}})
    old = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    review = review_for(old, operation="UPDATE", old=old)
    review["request"]["subResource"] = "status"
    assert post(client, "validate", review)["response"] == {
        "uid": review["request"]["uid"],
        "allowed": True,
    }


def test_a_bug_answers_500_so_the_failure_policy_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(tmp_path, {})

    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(admission_handlers(), "validate", broken)
    r = client.post(
        "/validate",
        data=json.dumps(load_review("002-validate-Job-CREATE-pi.json")),
        content_type="application/json",
    )
    assert r.status_code == 500
    assert r.get_json()["response"]["status"] == {
        "code": 500,
        "reason": "InternalError",
        "message": "internal error in jobguard; see its log",
    }


def admission_handlers() -> dict[str, Any]:
    from jobguard.webhook import app

    return app.HANDLERS


# -- answers ----------------------------------------------------------------------------------


def test_validating_answers_never_carry_a_patch(tmp_path: Path) -> None:
    client = client_for(tmp_path, {"restart-policy": {"action": "warn"}})
    answer = post(client, "validate", load_review("003-mutate-Job-CREATE-noname.json"))
    assert answer["response"]["allowed"] is True
    assert "patch" not in answer["response"] and "patchType" not in answer["response"]


def test_warnings_are_capped_in_number_with_a_count_of_the_rest() -> None:
    answer = responses.allow("u", [f"w{i}" for i in range(40)])
    warnings = answer.review["response"]["warnings"]
    assert warnings == [f"w{i}" for i in range(19)] + ["jobguard: 21 more warnings not shown"]


def test_warnings_stay_within_the_api_servers_limits() -> None:
    """The API server keeps warnings whole up to 4,096 characters in all (both webhooks and
    its own), then cuts each to 256 and drops the rest, and drops one with a control
    character: one answer stays at most half that, each warning under the cut."""
    many = [f"jobguard rule-{i}: spec.x: " + "word " * 40 for i in range(19)]
    warnings = responses.allow("u", [*many, "w" * 300, "bad\x01value"]).review["response"][
        "warnings"
    ]
    assert sum(map(len, warnings)) <= responses.MAX_WARNINGS_CHARS <= 4096 // 2
    assert all(len(w) <= responses.API_WARNING_CHARS and w.isprintable() for w in warnings)
    assert warnings[-1] == f"jobguard: {21 - (len(warnings) - 1)} more warnings not shown"
    assert responses.allow("u", ["bad\x01value\ttab"]).review["response"]["warnings"] == [
        "bad\ufffdvalue tab"
    ]


@pytest.mark.parametrize(
    ("head", "detail", "expected"),
    [
        # short enough: whole
        ("jobguard backoff-limit: spec.backoffLimit", "6 is fine", None),
        # cut at the last word boundary that fits, never mid-word
        (
            "jobguard backoff-limit: spec.backoffLimit",
            "backoffLimit 500 is above the maximum of 10 set by the policy; retries multiply "
            "the cost of a failing Job",
            "jobguard backoff-limit: spec.backoffLimit: backoffLimit 500 is above the maximum "
            "of 10 set by the policy; retries multiply…",
        ),
        # a long field path is kept whole, with room for the start of the message
        (
            "jobguard restart-policy (existing, not blocking): "
            "spec.jobTemplate.spec.template.spec.restartPolicy",
            "restartPolicy 'OnFailure' is not allowed by policy; use Never, as the CronJob's "
            "runs would otherwise restart in place",
            "jobguard restart-policy (existing, not blocking): "
            "spec.jobTemplate.spec.template.spec.restartPolicy: restartPolicy 'OnFailure' is "
            "not allowed by policy; use Never, as the CronJob's…",
        ),
        # one word longer than the room: cut where the room ends
        ("jobguard x: spec.command", "y" * 200, "jobguard x: spec.command: " + "y" * 92 + "…"),
    ],
)
def test_a_warning_keeps_its_rule_and_path_and_is_cut_at_a_word_boundary(
    head: str, detail: str, expected: str | None
) -> None:
    text = responses.warning(head, detail)
    assert text == (expected or f"{head}: {detail}")
    assert text.startswith(head + ": ")
    assert len(text) <= max(responses.MAX_WARNING_CHARS, len(head) + 2 + responses.MIN_DETAIL_CHARS)


def test_patch_is_base64_json_patch_with_its_type() -> None:
    ops = [{"op": "add", "path": "/spec/backoffLimit", "value": 3}]
    response = responses.allow("u", patch=ops).review["response"]
    assert response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"])) == ops
    assert "patch" not in responses.allow("u", patch=[]).review["response"]


# -- policy defaults through the webhook on the captured requests -------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # `kubectl create`: backoffLimit 6 is the API's default, so the policy's default replaces it
        (
            "003-mutate-Job-CREATE-noname.json",
            [{"op": "replace", "path": "/spec/backoffLimit", "value": 3}],
        ),
        # `kubectl apply` of a manifest that says backoffLimit: 4: the user's value stays
        ("001-mutate-Job-CREATE-pi.json", []),
        # a CronJob's template is not defaulted: its explicit backoffLimit 2 stays
        ("025-mutate-CronJob-CREATE-cleanup-tmp.json", []),
        # a CronJob template without backoffLimit gets the policy default under jobTemplate
        (
            "010-mutate-CronJob-CREATE-nightly-report.json",
            [{"op": "add", "path": "/spec/jobTemplate/spec/backoffLimit", "value": 3}],
        ),
    ],
)
def test_policy_default_replaces_api_defaults_only(
    tmp_path: Path, name: str, expected: list[dict[str, Any]]
) -> None:
    client = client_for(tmp_path, {"backoff-limit": {"action": "warn", "default": 3}})
    assert patch_ops(post(client, "mutate", load_review(name))) == expected


@pytest.mark.parametrize(
    ("cronjobs", "expected"),
    [
        ("skip", []),
        ("default", [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 3600}]),
    ],
)
def test_jobs_created_by_a_cronjob_follow_the_ttl_rules_choice(
    tmp_path: Path, cronjobs: str, expected: list[dict[str, Any]]
) -> None:
    rules = {"ttl-after-finished": {"action": "warn", "default": 3600, "cronjobs": cronjobs}}
    client = client_for(tmp_path, rules)
    from_cron = load_review("021-mutate-Job-CREATE-from-cron.json")
    owner = from_cron["request"]["object"]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "CronJob"
    # As the CronJob controller creates a scheduled run: its identity, a controlling owner.
    owner["controller"] = True
    from_cron["request"]["userInfo"]["username"] = CRONJOB_CONTROLLER
    assert patch_ops(post(client, "mutate", from_cron)) == expected
    # The same Job from a user (kubectl create job --from=cronjob/...) is any Job.
    from_cron["request"]["userInfo"]["username"] = "admin"
    assert patch_ops(post(client, "mutate", from_cron)) == [
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 3600}
    ]
    # a Job nobody owns gets the default either way
    plain = load_review("023-mutate-Job-CREATE-kubectl-made.json")
    assert patch_ops(post(client, "mutate", plain)) == [
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 3600}
    ]


def test_kubernetes_version_setting_reaches_version_dependent_rules(tmp_path: Path) -> None:
    """Pod-level resources count for the resources rule from Kubernetes 1.34 on."""
    policy = write_policy(tmp_path / "policy.yaml", {"resources": {"action": "deny"}})
    obj = fixture_object("007-validate-Job-CREATE-indexed-render.json")
    pod = obj["spec"]["template"]["spec"]
    pod["resources"] = pod["containers"][0].pop("resources")
    review = review_for(obj)
    answers = {}
    for version in ((1, 34), (1, 33)):
        settings = Settings(
            policy_paths=(str(all_rules_off(tmp_path)), str(policy)), kubernetes_version=version
        )
        answers[version] = post(create_app(settings).test_client(), "validate", review)["response"]
    assert answers[(1, 34)]["allowed"] is True
    assert answers[(1, 33)]["allowed"] is False
    assert answers[(1, 33)]["status"]["message"].startswith(
        "jobguard policy: [resources] spec.template.spec.containers[0].resources: "
        "container 'render' has no cpu request, no memory request and no memory limit: "
    )


def test_validating_webhook_leaves_the_api_servers_own_checks_to_it(tmp_path: Path) -> None:
    """The API server validates before it calls validating webhooks: the api-* rules it enforces
    are not run there (lint runs them), api-warnings (accepted objects) is."""
    rules = {
        "api-structure": {"action": "deny"},
        "api-non-negative": {"action": "deny"},
        "api-warnings": {"action": "deny"},
    }
    assert {r.name for r in validating_rules().rules} >= {"api-warnings", "restart-policy"}
    assert not {r.name for r in validating_rules().rules} & {"api-structure", "api-selector"}
    client = client_for(tmp_path, rules)
    obj = fixture_object("007-validate-Job-CREATE-indexed-render.json")
    obj["spec"]["successPolicy"] = {"rules": [{"succeededIndexes": "0"}]}
    obj["spec"]["backoffLimit"] = -1
    assert post(client, "validate", review_for(obj))["response"]["allowed"] is True
    obj["metadata"]["name"] = "render.v2"
    response = post(client, "validate", review_for(obj))["response"]
    assert response["allowed"] is False
    assert response["status"]["message"].startswith(
        "jobguard policy: [api-warnings] metadata.name:"
    )


# -- a CronJob's runs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "controller", "denied"),
    [
        ("system:serviceaccount:kube-system:cronjob-controller", True, False),
        ("system:kube-controller-manager", True, False),
        ("admin", True, True),  # kubectl create job --from=cronjob/...: a person's Job
        # The controller's identity with a CronJob owner that does not control the Job.
        ("system:serviceaccount:kube-system:cronjob-controller", False, True),
    ],
)
def test_a_cronjob_run_is_not_denied_but_a_copy_made_by_hand_is(
    tmp_path: Path, username: str, controller: bool, denied: bool
) -> None:
    client = client_for(tmp_path, {"restart-policy": {"action": "deny", "allowed": ["Never"]}})
    review = load_review("022-validate-Job-CREATE-from-cron.json")
    owner = review["request"]["object"]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "CronJob"
    owner["controller"] = controller
    review["request"]["userInfo"]["username"] = username
    response = post(client, "validate", review)["response"]
    assert response["allowed"] is not denied
    if denied:
        assert response["status"]["message"].startswith(
            "jobguard policy: [restart-policy] spec.template.spec.restartPolicy: "
        )
    else:
        assert response["warnings"] == [
            "jobguard restart-policy (CronJob run, not blocking): "
            "spec.template.spec.restartPolicy: restartPolicy 'OnFailure' is not allowed by "
            "policy; use Never"
        ]


def test_an_owner_reference_alone_does_not_lift_a_denial(tmp_path: Path) -> None:
    client = client_for(tmp_path, {"restart-policy": {"action": "deny", "allowed": ["Never"]}})
    obj = fixture_object("002-validate-Job-CREATE-pi.json")
    obj["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": "batch/v1", "kind": "CronJob", "name": "x", "uid": "1"}
    ]
    assert post(client, "validate", review_for(obj))["response"]["allowed"] is False
