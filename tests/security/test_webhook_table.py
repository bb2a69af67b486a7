"""The adversarial table, webhook side: what the judged object says about itself cannot steer the
verdict of the real server (gunicorn over TLS, bundled strict policy).

Each row is a captured AdmissionReview (tests/security/conftest.py), changed only where the row
says, and what the server must answer. The same rows for lint, audit and the exported policies
are in the sibling modules.
"""

from __future__ import annotations

from typing import Any

from tests.security.conftest import CRONJOB_CONTROLLER, captured
from tests.webhook.support import Server, patch_ops

FORGED_DENIAL = (
    "jobguard policy: "
    "[completions-parallelism] spec.parallelism: parallelism 500 is above the policy's maximum "
    "100; "
    "[backoff-limit] spec.backoffLimit: backoffLimit 500 is above the policy's maximum 10; "
)
DENY_RULE_REFUSED = (
    "it denies, and an object may suppress a deny rule only where the policy lists it in "
    "suppressions.suppressible; an exemption in the policy file can lift it"
)


def response(server: Server, webhook: str, review: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = server.review(webhook, review)["response"]
    return answer


def without_resources(review: dict[str, Any]) -> dict[str, Any]:
    """The review's Job with no resources on its container (a strict-policy error)."""
    for container in review["request"]["object"]["spec"]["template"]["spec"]["containers"]:
        container.pop("resources", None)
    return review


# -- a forged CronJob owner ---------------------------------------------------------------------


def test_a_forged_cronjob_owner_is_denied_like_any_job(strict_server: Server) -> None:
    # 031: user admin creates a Job whose manifest claims a controlling CronJob owner.
    review = captured("031")
    owner = review["request"]["object"]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["controller"]) == ("CronJob", True)
    answer = response(strict_server, "validate", review)
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 403
    assert answer["status"]["message"].startswith(FORGED_DENIAL)
    # /mutate gives it the TTL a scheduled run would not get.
    assert patch_ops(strict_server.review("mutate", captured("030"))) == [
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400}
    ]


def test_a_scheduled_run_by_the_controller_is_warned_about_not_denied(
    strict_server: Server,
) -> None:
    # 029: the CronJob controller's own request; its container without resources is an error
    # under strict, which a scheduled run turns into a warning.
    review = without_resources(captured("029"))
    assert review["request"]["userInfo"]["username"] == CRONJOB_CONTROLLER
    answer = response(strict_server, "validate", review)
    assert answer["allowed"] is True
    [warning] = answer["warnings"]  # the head is never cut; the message may be
    assert warning.startswith(
        "jobguard resources (CronJob run, not blocking): "
        "spec.template.spec.containers[0].resources: container 'main' has no cpu request"
    )
    assert "patch" not in response(strict_server, "mutate", captured("028"))


def test_the_same_run_from_anyone_else_or_without_a_controlling_owner_is_denied(
    strict_server: Server,
) -> None:
    by_a_user = without_resources(captured("029"))
    by_a_user["request"]["userInfo"] = {"username": "admin", "groups": ["system:masters"]}
    answer = response(strict_server, "validate", by_a_user)
    assert (answer["allowed"], answer["status"]["code"]) == (False, 403)
    assert "[resources] spec.template.spec.containers[0].resources" in answer["status"]["message"]

    not_controlling = without_resources(captured("029"))
    del not_controlling["request"]["object"]["metadata"]["ownerReferences"][0]["controller"]
    answer = response(strict_server, "validate", not_controlling)
    assert (answer["allowed"], answer["status"]["code"]) == (False, 403)


# -- an object suppressing its own denial -------------------------------------------------------


def test_a_deny_rule_suppressed_by_the_object_itself_still_denies_and_says_why(
    strict_server: Server,
) -> None:
    review = captured("031")
    review["request"]["object"]["metadata"]["annotations"] = {
        "suppress.jobguard.dev/backoff-limit": "reviewed by us",
    }
    answer = response(strict_server, "validate", review)
    assert (answer["allowed"], answer["status"]["code"]) == (False, 403)
    assert (
        "[backoff-limit] spec.backoffLimit: backoffLimit 500 is above the policy's maximum 10 "
        f"(annotation suppress.jobguard.dev/backoff-limit ignored: {DENY_RULE_REFUSED});"
    ) in answer["status"]["message"]


def test_a_manual_selector_can_never_be_suppressed_by_the_job(strict_server: Server) -> None:
    review = captured("031")
    obj = review["request"]["object"]
    obj["metadata"]["annotations"] = {"suppress.jobguard.dev/manual-selector": "handover"}
    obj["spec"]["manualSelector"] = True
    answer = response(strict_server, "validate", review)
    assert (answer["allowed"], answer["status"]["code"]) == (False, 403)
    assert (
        "[manual-selector] spec.manualSelector: manualSelector: true is not allowed; let the API "
        "server generate the selector (annotation suppress.jobguard.dev/manual-selector ignored: "
        "manual-selector can never be suppressed by the object itself; an exemption in the "
        "policy file can lift it)"
    ) in answer["status"]["message"]


# -- ratcheting by value ------------------------------------------------------------------------


def test_an_unchanged_violating_value_is_allowed_with_a_warning(strict_server: Server) -> None:
    # 039: a schedule-only patch of a CronJob stored with jobTemplate backoffLimit 50.
    review = captured("039")
    path = ("spec", "jobTemplate", "spec", "backoffLimit")
    old, new = review["request"]["oldObject"], review["request"]["object"]
    assert _at(old, path) == _at(new, path) == 50
    answer = response(strict_server, "validate", review)
    assert answer["allowed"] is True
    head = (
        "jobguard backoff-limit (existing, not blocking): spec.jobTemplate.spec.backoffLimit: "
        "backoffLimit 50 is above"
    )
    assert [w for w in answer["warnings"] if w.startswith(head)] != []


def test_a_changed_violating_value_is_denied(strict_server: Server) -> None:
    # 041: the same CronJob's backoffLimit raised from 50 to 2147483647 (same path, new value).
    answer = response(strict_server, "validate", captured("041"))
    assert (answer["allowed"], answer["status"]["code"]) == (False, 403)
    assert answer["status"]["message"] == (
        "jobguard policy: [backoff-limit] spec.jobTemplate.spec.backoffLimit: "
        "backoffLimit 2147483647 is above the policy's maximum 10"
    )


# -- server-side apply --------------------------------------------------------------------------


def test_a_server_side_applied_api_default_is_the_users_and_gets_no_patch(
    strict_server: Server,
) -> None:
    # 032: flux applies backoffLimit 6, completions 1, parallelism 1 (the API defaults): its
    # managedFields Apply entry owns them, so strict's backoffLimit 3 does not replace the 6.
    review = captured("032")
    assert patch_ops(strict_server.review("mutate", review)) == [
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400}
    ]
    # The same object with no record of who wrote what: the 6 is the API's default, replaced.
    del review["request"]["object"]["metadata"]["managedFields"]
    assert {"op": "replace", "path": "/spec/backoffLimit", "value": 3} in patch_ops(
        strict_server.review("mutate", review)
    )


def test_a_server_side_applied_cronjob_keeps_its_explicit_values(strict_server: Server) -> None:
    # 034: argocd-controller applies concurrencyPolicy Allow and jobTemplate backoffLimit 6.
    assert patch_ops(strict_server.review("mutate", captured("034"))) == [
        {"op": "add", "path": "/spec/jobTemplate/spec/completions", "value": 1},
        {"op": "add", "path": "/spec/jobTemplate/spec/parallelism", "value": 1},
    ]


def _at(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj[key]
    return obj
