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

#: kubectl prints warnings on one line each; the API server truncates long or many warnings.
MAX_WARNING_CHARS = 119
MAX_WARNINGS = 20
ELLIPSIS = "…"

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


def short(text: str, limit: int = MAX_WARNING_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + ELLIPSIS


def _warnings(warnings: Iterable[str]) -> list[str]:
    items = [short(w) for w in warnings]
    if len(items) > MAX_WARNINGS:
        hidden = len(items) - (MAX_WARNINGS - 1)
        items = [*items[: MAX_WARNINGS - 1], f"jobguard: {hidden} more warnings not shown"]
    return items


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
