"""The AdmissionReview v1 wire format, typed, and a parser that never lets bad input through.

The TypedDicts describe the JSON the API server sends and expects back
(``admission.k8s.io/v1``, see the Kubernetes ``admission/v1/types.go``). :func:`parse_review`
turns a request body into a small frozen :class:`Review` or raises :class:`ReviewError` with a
message for the caller and, when it could be read, the request uid to echo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast, get_args

from jobguard.webhook import fastjson

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
OPERATIONS: tuple[str, ...] = get_args(Operation)


class GroupVersionKind(TypedDict):
    group: str
    version: str
    kind: str


class UserInfo(TypedDict, total=False):
    username: str
    uid: str
    groups: list[str]
    extra: dict[str, list[str]]


class _RequiredRequestFields(TypedDict):
    uid: str
    kind: GroupVersionKind
    operation: Operation


class AdmissionRequest(_RequiredRequestFields, total=False):
    resource: dict[str, str]
    subResource: str
    requestKind: GroupVersionKind
    requestResource: dict[str, str]
    requestSubResource: str
    name: str
    namespace: str
    userInfo: UserInfo
    object: dict[str, Any] | None
    oldObject: dict[str, Any] | None
    dryRun: bool | None
    options: dict[str, Any] | None


class AdmissionReviewRequest(TypedDict):
    apiVersion: Literal["admission.k8s.io/v1"]
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


class Status(TypedDict, total=False):
    code: int
    reason: str
    message: str


class _RequiredResponseFields(TypedDict):
    uid: str
    allowed: bool  # absent means false: always sent


class AdmissionResponse(_RequiredResponseFields, total=False):
    status: Status
    patch: str  # base64 of an RFC 6902 JSON Patch array
    patchType: Literal["JSONPatch"]
    warnings: list[str]
    auditAnnotations: dict[str, str]


class AdmissionReviewResponse(TypedDict):
    apiVersion: Literal["admission.k8s.io/v1"]
    kind: Literal["AdmissionReview"]
    response: AdmissionResponse


class ReviewError(ValueError):
    """The body is not a usable AdmissionReview v1 request (answered with HTTP 400)."""

    def __init__(self, message: str, uid: str | None = None):
        super().__init__(message)
        self.message = message
        self.uid = uid


@dataclass(frozen=True)
class Review:
    """The parts of an admission request jobguard uses, with their types checked."""

    uid: str
    kind: GroupVersionKind
    operation: Operation
    namespace: str | None
    name: str | None
    username: str
    object: dict[str, Any] | None
    old_object: dict[str, Any] | None
    dry_run: bool
    sub_resource: str | None
    groups: tuple[str, ...] = ()


def _optional_str(request: dict[str, Any], key: str, uid: str) -> str | None:
    value = request.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ReviewError(f"request.{key} must be a string", uid)
    return value


def _gvk(value: Any, uid: str) -> GroupVersionKind:
    if not isinstance(value, dict) or not all(
        isinstance(value.get(k), str) for k in ("group", "version", "kind")
    ):
        raise ReviewError("request.kind must be {group, version, kind} strings", uid)
    return GroupVersionKind(group=value["group"], version=value["version"], kind=value["kind"])


def _object(
    request: dict[str, Any], key: str, uid: str, *, required: bool
) -> dict[str, Any] | None:
    value = request.get(key)
    if value is None:
        if required:
            raise ReviewError(f"request.{key} is required for {request['operation']}", uid)
        return None
    if not isinstance(value, dict):
        raise ReviewError(f"request.{key} must be an object", uid)
    return value


def _read_uid(request: Any) -> str | None:
    if isinstance(request, dict):
        uid = request.get("uid")
        if isinstance(uid, str) and uid:
            return uid
    return None


def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``, or ReviewError (never RecursionError or UnicodeError)."""
    try:
        return fastjson.loads(body)
    except RecursionError:
        raise ReviewError("request body is not valid JSON: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ReviewError(f"request body is not UTF-8 JSON: {exc.reason}") from None
    except ValueError as exc:
        raise ReviewError(f"request body is not valid JSON: {exc}") from None


def parse_review(document: Any) -> Review:
    """Check a decoded body against AdmissionReview v1 and return its typed request."""
    if not isinstance(document, dict):
        raise ReviewError("request body must be a JSON object (an AdmissionReview)")
    request = document.get("request")
    uid = _read_uid(request)
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if kind != KIND:
        raise ReviewError(f"expected kind {KIND!r}, got {kind!r}", uid)
    if api_version != API_VERSION:
        raise ReviewError(
            f"expected apiVersion {API_VERSION!r}, got {api_version!r} "
            "(set admissionReviewVersions: [v1] in the webhook configuration)",
            uid,
        )
    if not isinstance(request, dict):
        raise ReviewError("AdmissionReview has no request object")
    if uid is None:
        raise ReviewError("request.uid must be a non-empty string")
    operation = request.get("operation")
    if operation not in OPERATIONS:
        raise ReviewError(
            f"request.operation must be one of {', '.join(OPERATIONS)}, got {operation!r}", uid
        )
    user = request.get("userInfo")
    username = user.get("username") if isinstance(user, dict) else None
    groups = user.get("groups") if isinstance(user, dict) else None
    dry_run = request.get("dryRun")
    if dry_run is not None and not isinstance(dry_run, bool):
        raise ReviewError("request.dryRun must be true or false", uid)
    return Review(
        uid=uid,
        kind=_gvk(request.get("kind"), uid),
        operation=cast(Operation, operation),
        namespace=_optional_str(request, "namespace", uid),
        name=_optional_str(request, "name", uid),
        username=username if isinstance(username, str) else "",
        object=_object(request, "object", uid, required=operation in ("CREATE", "UPDATE")),
        old_object=_object(request, "oldObject", uid, required=operation == "UPDATE"),
        dry_run=bool(dry_run),
        sub_resource=_optional_str(request, "subResource", uid),
        groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
    )
