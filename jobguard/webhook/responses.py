"""The one place where webhook answers are built.

Every answer, including HTTP errors, is an AdmissionReview v1 envelope carrying the request uid
when one could be read, so the API server's log shows which call failed and why. The API server
checks an answer strictly (KUBERNETES-JOB-API.md 8.2): exact apiVersion/kind, matching uid,
``allowed`` always present, ``patch`` only with ``patchType: JSONPatch`` and never from the
validating webhook. Those invariants are kept here and nowhere else.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jobguard.webhook import fastjson
from jobguard.webhook.review import AdmissionResponse, AdmissionReviewResponse, Status

#: What the API server does with warnings (staging/src/k8s.io/apiserver/pkg/endpoints/filters/
#: warning.go): it keeps every warning of a response whole while they total at most 4,096
#: characters (runes), its own and every webhook's; past that it cuts each one to its first 256
#: characters, mid-word, and drops those that come after the total. A warning holding a control
#: character is dropped (``NewWarningHeader`` in apimachinery/pkg/util/net/http.go).
API_WARNING_CHARS = 256
API_WARNINGS_TOTAL_CHARS = 4096
#: jobguard's own length: kubectl prints a warning on one line, and long ones wrap unreadably.
MAX_WARNING_CHARS = 119
#: Room a warning keeps for its detail after a long head (rule and field path), beyond
#: :data:`MAX_WARNING_CHARS` if need be (never beyond the API server's cut).
MIN_DETAIL_CHARS = 80
#: One answer's share of the API server's total, so that the mutating and the validating
#: webhook together stay under it with room for the API server's own warnings.
MAX_WARNINGS_CHARS = 1800
MAX_WARNINGS = 20
ELLIPSIS = "…"
#: Characters cut off at the end of a shortened text: a dangling separator reads as a typo.
_TRAILING = " ,;:-"

HTTP_REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    500: "InternalError",
}


@dataclass(frozen=True)
class Answer:
    """An HTTP status and the AdmissionReview body that goes with it."""

    http_status: int
    review: AdmissionReviewResponse

    @property
    def allowed(self) -> bool:
        return self.review["response"]["allowed"]

    @property
    def body(self) -> bytes:
        return fastjson.dumps(self.review)


def one_line(text: str) -> str:
    """``text`` on one line, with no control character (the API server drops a warning that has
    one): whitespace runs become one space, other control characters U+FFFD."""
    flat = " ".join(text.split())
    if flat.isprintable():
        return flat
    return "".join(c if c.isprintable() or c == " " else "\ufffd" for c in flat)


def short(text: str, limit: int = MAX_WARNING_CHARS, keep: int = 0) -> str:
    """``text`` on one line, cut to ``limit`` characters at a word boundary with an ellipsis.

    The first ``keep`` characters (a warning's rule and field path) are never cut: the limit
    grows to hold them, up to the API server's own cut. A single word longer than the room
    left is cut where the room ends.
    """
    flat = one_line(text)
    limit = min(max(limit, keep + 2), API_WARNING_CHARS)
    if len(flat) <= limit:
        return flat
    room = limit - len(ELLIPSIS)
    cut = flat.rfind(" ", keep, room + 1)
    end = cut if cut > keep else room
    return flat[:end].rstrip(_TRAILING) + ELLIPSIS


def warning(head: str, detail: str, limit: int = MAX_WARNING_CHARS) -> str:
    """A warning ``head: detail``: the head (which rule, which field) whole, the detail cut at
    a word boundary to fit ``limit``, or :data:`MIN_DETAIL_CHARS` after a long head."""
    head = one_line(head)
    limit = max(limit, len(head) + 2 + MIN_DETAIL_CHARS)
    return short(f"{head}: {detail}", limit, keep=len(head) + 1)


def _warnings(warnings: Iterable[str]) -> list[str]:
    """The warnings of one answer: each safe for the API server and within its per-warning
    cut; at most :data:`MAX_WARNINGS` of them and :data:`MAX_WARNINGS_CHARS` in all, or as
    many as fit beside a last line counting the rest."""
    items = [short(w, API_WARNING_CHARS) for w in warnings]
    if len(items) <= MAX_WARNINGS and sum(map(len, items)) <= MAX_WARNINGS_CHARS:
        return items
    shown: list[str] = []
    total = 0
    for item in items:
        note = _more_not_shown(len(items) - len(shown) - 1)
        if len(shown) == MAX_WARNINGS - 1 or total + len(item) + len(note) > MAX_WARNINGS_CHARS:
            break
        shown.append(item)
        total += len(item)
    return [*shown, _more_not_shown(len(items) - len(shown))]


def _more_not_shown(count: int) -> str:
    return f"jobguard: {count} more warnings not shown"


def encode_patch(ops: Sequence[dict[str, Any]]) -> str:
    return base64.b64encode(fastjson.dumps(ops)).decode("ascii")


def _envelope(response: AdmissionResponse) -> AdmissionReviewResponse:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def allow(
    uid: str,
    warnings: Iterable[str] = (),
    patch: Sequence[dict[str, Any]] = (),
    audit: dict[str, str] | None = None,
) -> Answer:
    """Allowed, with a JSON Patch when ``patch`` is not empty (mutating webhook only)."""
    response: AdmissionResponse = {"uid": uid, "allowed": True}
    if patch:
        response["patch"] = encode_patch(patch)
        response["patchType"] = "JSONPatch"
    shown = _warnings(warnings)
    if shown:
        response["warnings"] = shown
    if audit:
        response["auditAnnotations"] = audit
    return Answer(200, _envelope(response))


def deny(
    uid: str,
    message: str,
    warnings: Iterable[str] = (),
    code: int = 403,
    audit: dict[str, str] | None = None,
) -> Answer:
    """A policy denial: HTTP 200 (the call worked) with ``allowed: false`` and a Status."""
    status: Status = {
        "code": code,
        "reason": HTTP_REASONS.get(code, "Forbidden"),
        "message": message,
    }
    response: AdmissionResponse = {"uid": uid, "allowed": False, "status": status}
    shown = _warnings(warnings)
    if shown:
        response["warnings"] = shown
    if audit:
        response["auditAnnotations"] = audit
    return Answer(200, _envelope(response))


def error(http_status: int, message: str, uid: str | None = None) -> Answer:
    """The call itself failed (bad request, wrong method...): the API server applies its
    failurePolicy; the body says why, with the uid when one could be read."""
    status: Status = {
        "code": http_status,
        "reason": HTTP_REASONS.get(http_status, "BadRequest"),
        "message": message,
    }
    response: AdmissionResponse = {"uid": uid or "", "allowed": False, "status": status}
    return Answer(http_status, _envelope(response))
