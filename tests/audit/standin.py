"""A stand-in for a Kubernetes API server: the few endpoints ``jobguard audit`` uses.

Not a cluster: a threaded ``http.server`` holding objects in memory, speaking enough of the
API for the real kubernetes client to talk to it through a generated kubeconfig: Job, CronJob
and Pod lists with ``limit``/``continue`` (and ``labelSelector`` on pods), JSON Patch on Jobs and
CronJobs (with ``test`` operations, 422 when one fails), the wgpolicyk8s.io discovery document
and PolicyReport / ClusterPolicyReport get, create and replace. Faults are switched on per test:
a namespace (or the cluster-wide list) that answers 403, continue tokens that expire (410 Gone),
the report CRDs missing (404). Every request is recorded.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonpatch

TOKEN = "stand-in-token"
HOLD_SECONDS = 20.0
REPORT_PREFIX = "/apis/wgpolicyk8s.io/v1alpha2"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    content_type: str | None = None
    body: Any = None


@dataclass
class State:
    # (plural, namespace, name) -> object
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    reports: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # namespaces; "*" for cluster-wide lists
    expire_continue: int = 0  # how many continue requests answer 410 Gone
    reports_installed: bool = True
    #: What GET /version answers (None: 404, as before the endpoint existed).
    version: dict[str, Any] | None = None
    #: When set, a list's continue request waits for this event (at most HOLD_SECONDS) before
    #: it is answered; ``hold_timed_out`` tells whether one gave up waiting.
    hold_continue: threading.Event | None = None
    hold_timed_out: bool = False
    requests: list[Request] = field(default_factory=list)
    resource_version: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: (plural, namespace) -> (resource_version, the sorted list): every change bumps the
    #: resource version. Sorting every object for each page made a 100,000-Job list quadratic,
    #: and the benchmark measured the stand-in instead of the audit.
    listings: dict[tuple[str, str | None], tuple[int, list[dict[str, Any]]]] = field(
        default_factory=dict
    )

    def listing(self, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        cached = self.listings.get((plural, namespace))
        if cached is not None and cached[0] == self.resource_version:
            return cached[1]
        items = [
            obj
            for (p, ns, _), obj in sorted(self.objects.items())
            if p == plural and (namespace is None or ns == namespace)
        ]
        self.listings[(plural, namespace)] = (self.resource_version, items)
        return items

    def add(self, obj: dict[str, Any]) -> None:
        kind = obj["kind"]
        plural = {"Job": "jobs", "CronJob": "cronjobs", "Pod": "pods"}[kind]
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        self.resource_version += 1
        meta.setdefault("resourceVersion", str(self.resource_version))
        meta.setdefault("uid", f"uid-{plural}-{meta['namespace']}-{meta['name']}")
        self.objects[(plural, meta["namespace"], meta["name"])] = obj

    def requests_to(self, method: str, fragment: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and fragment in r.path]


def _status(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term not in labels:
            return False
    return True


def _token(offset: int, rv: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "rv": rv}).encode()).decode()


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ---------------------------------------------------------------------------
    def _send(self, code: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _read(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._read() if method in ("POST", "PUT", "PATCH") else None
        state = self.server.state
        with state.lock:
            state.requests.append(
                Request(method, url.path, query, self.headers.get("Content-Type"), body)
            )
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        parts = [p for p in url.path.split("/") if p]
        held = "continue" in query and state.hold_continue is not None
        if held and state.hold_continue and not state.hold_continue.wait(HOLD_SECONDS):
            state.hold_timed_out = True
        with state.lock:
            code, answer = self._route(method, parts, query, body)
        self._send(code, answer)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- routes -----------------------------------------------------------------------------
    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        state = self.server.state
        if parts == ["version"] and method == "GET" and state.version is not None:
            return 200, state.version
        if parts[:3] == ["apis", "wgpolicyk8s.io", "v1alpha2"]:
            return self._reports(method, parts[3:], body)
        if parts[:3] == ["apis", "batch", "v1"] or parts[:2] == ["api", "v1"]:
            rest = parts[3:] if parts[0] == "apis" else parts[2:]
            namespace = None
            if rest[:1] == ["namespaces"] and len(rest) >= 3:
                namespace, rest = rest[1], rest[2:]
            plural = rest[0] if rest else ""
            if plural not in ("jobs", "cronjobs", "pods"):
                return 404, _status(
                    404, "NotFound", "the server could not find the requested resource"
                )
            if len(rest) == 1 and method == "GET":
                if (namespace or "*") in state.forbidden:
                    scope = (
                        f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                    )
                    return 403, _status(
                        403,
                        "Forbidden",
                        f'{plural}.batch is forbidden: User "system:serviceaccount:jobguard:audit" '
                        f'cannot list resource "{plural}" in API group "batch" {scope}',
                    )
                return self._list(plural, namespace, query)
            if len(rest) == 2 and method == "PATCH" and namespace is not None:
                return self._patch(plural, namespace, rest[1], body)
        return 404, _status(404, "NotFound", "the server could not find the requested resource")

    def _list(self, plural: str, namespace: str | None, query: dict[str, str]) -> tuple[int, Any]:
        state = self.server.state
        items = state.listing(plural, namespace)
        selector = query.get("labelSelector")
        if selector:
            items = [
                o for o in items if _selector_matches(selector, o["metadata"].get("labels") or {})
            ]
        offset = 0
        if query.get("continue"):
            if state.expire_continue > 0:
                state.expire_continue -= 1
                status = _status(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter.",
                )
                return 410, status
            offset = json.loads(base64.urlsafe_b64decode(query["continue"]))["o"]
        limit = int(query.get("limit") or 0) or len(items) or 1
        page = items[offset : offset + limit]
        meta: dict[str, Any] = {"resourceVersion": str(state.resource_version)}
        if offset + limit < len(items):
            meta["continue"] = _token(offset + limit, state.resource_version)
            meta["remainingItemCount"] = len(items) - offset - limit
        kind = {"jobs": "JobList", "cronjobs": "CronJobList", "pods": "PodList"}[plural]
        # Lists carry no kind/apiVersion per item, as a real API server answers them.
        stripped = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page]
        api_version = "v1" if plural == "pods" else "batch/v1"
        return 200, {"kind": kind, "apiVersion": api_version, "metadata": meta, "items": stripped}

    def _patch(self, plural: str, namespace: str, name: str, body: Any) -> tuple[int, Any]:
        state = self.server.state
        key = (plural, namespace, name)
        if key not in state.objects:
            return 404, _status(404, "NotFound", f'{plural}.batch "{name}" not found')
        content_type = self.headers.get("Content-Type")
        if content_type != "application/json-patch+json":
            return 415, _status(415, "UnsupportedMediaType", f"unsupported {content_type}")
        try:
            patched = jsonpatch.apply_patch(state.objects[key], body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            return 422, _status(422, "Invalid", f"the server rejected our request: {exc}")
        state.resource_version += 1
        patched["metadata"]["resourceVersion"] = str(state.resource_version)
        state.objects[key] = patched
        return 200, patched

    def _reports(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        state = self.server.state
        if not state.reports_installed:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        if not parts and method == "GET":
            return 200, {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": "wgpolicyk8s.io/v1alpha2",
                "resources": [
                    {
                        "name": "policyreports",
                        "namespaced": True,
                        "kind": "PolicyReport",
                        "verbs": ["get", "create", "update", "list"],
                    },
                    {
                        "name": "clusterpolicyreports",
                        "namespaced": False,
                        "kind": "ClusterPolicyReport",
                        "verbs": ["get", "create", "update", "list"],
                    },
                ],
            }
        namespace = ""
        if parts[:1] == ["namespaces"]:
            namespace, parts = parts[1], parts[2:]
        plural, name = parts[0], parts[1] if len(parts) > 1 else None
        if name is None and method == "POST":
            name = body["metadata"]["name"]
            key = (plural, namespace, name)
            if key in state.reports:
                return 409, _status(409, "AlreadyExists", f'{plural} "{name}" already exists')
            state.resource_version += 1
            stored = copy.deepcopy(body)
            stored["metadata"]["resourceVersion"] = str(state.resource_version)
            state.reports[key] = stored
            return 201, stored
        key = (plural, namespace, name or "")
        if method == "GET":
            if key not in state.reports:
                return 404, _status(
                    404,
                    "NotFound",
                    f'{plural}.wgpolicyk8s.io "{name}" not found',
                    name=name,
                    group="wgpolicyk8s.io",
                    kind=plural,
                )
            return 200, state.reports[key]
        if method == "PUT":
            current = state.reports.get(key)
            if current is None:
                return 404, _status(404, "NotFound", f'{plural}.wgpolicyk8s.io "{name}" not found')
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return 409, _status(409, "Conflict", "the object has been modified")
            state.resource_version += 1
            stored = copy.deepcopy(body)
            stored["metadata"]["resourceVersion"] = str(state.resource_version)
            state.reports[key] = stored
            return 200, stored
        return 405, _status(405, "MethodNotAllowed", "method not allowed")


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = State()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def kubeconfig(self, path: Path, context: str = "stand-in") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "stand-in", "cluster": {"server": self.url}}],
            "users": [{"name": "audit", "user": {"token": TOKEN}}],
            "contexts": [{"name": context, "context": {"cluster": "stand-in", "user": "audit"}}],
            "current-context": context,
        }
        path.write_text(json.dumps(config))
        return path


@contextmanager
def running() -> Iterator[StandIn]:
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
