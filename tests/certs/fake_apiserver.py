"""A real HTTP server on 127.0.0.1 that plays the few Kubernetes API endpoints `jobguard certs`
calls: Secrets (get, create, replace) and the two webhook configurations (get, JSON Patch).

No kube-apiserver can run here, so this stands in for one. It behaves like the real one where
it matters to the client: bearer-token authentication (401), 404/409/415/422 Status bodies,
resourceVersion bumps and conflicts on replace, JSON Patch with `test` ops applied by the
`jsonpatch` library, and a request log to assert what was (and was not) written.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

TOKEN = "test-token"
_SECRET = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/secrets(?:/(?P<name>[^/]+))?$")
_WEBHOOK = re.compile(
    r"^/apis/admissionregistration\.k8s\.io/v1/"
    r"(?P<plural>mutatingwebhookconfigurations|validatingwebhookconfigurations)/(?P<name>[^/]+)$"
)
_PLURAL = {
    "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
}


@dataclass
class ApiState:
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)
    version: int = 100
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def add(self, obj: dict[str, Any]) -> None:
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = self.next_version()
        self.objects[object_path(obj)] = obj

    def writes(self) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] != "GET"]


def object_path(obj: dict[str, Any]) -> str:
    name = obj["metadata"]["name"]
    if obj["kind"] == "Secret":
        return f"/api/v1/namespaces/{obj['metadata']['namespace']}/secrets/{name}"
    return f"/apis/admissionregistration.k8s.io/v1/{_PLURAL[obj['kind']]}/{name}"


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class _Handler(BaseHTTPRequestHandler):
    state: ApiState

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def _handle(self) -> None:
        path = self.path.split("?", 1)[0]
        state = self.state
        with state.lock:
            state.requests.append(
                (self.command, path, self.headers.get("Content-Type", "").split(";")[0])
            )
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            if path in state.forbidden:
                return self._send(403, _status(403, "Forbidden", f"forbidden: {path}"))
            secret, webhook = _SECRET.match(path), _WEBHOOK.match(path)
            if not secret and not webhook:
                return self._send(404, _status(404, "NotFound", f"no route {path}"))
            content_type = self.headers.get("Content-Type", "").split(";")[0]
            # kube-apiserver reads a body without Content-Type as its first media type, JSON,
            # and answers 415 to a type it does not know.
            if self.command in ("POST", "PUT") and content_type not in ("", "application/json"):
                message = f"the body of the request was in an unknown format: {content_type!r}"
                return self._send(415, _status(415, "UnsupportedMediaType", message))
            if self.command == "POST" and secret and not secret["name"]:
                return self._create(secret["ns"], self._body())
            current = state.objects.get(path)
            if current is None:
                return self._send(404, _status(404, "NotFound", f"{path} not found"))
            if self.command == "GET":
                return self._send(200, current)
            if self.command == "PUT" and secret:
                return self._replace(path, current, self._body())
            if self.command == "PATCH" and webhook:
                return self._patch(path, current, self._body())
            return self._send(405, _status(405, "MethodNotAllowed", self.command))

    def _create(self, namespace: str, body: dict[str, Any]) -> None:
        body.setdefault("metadata", {})["namespace"] = namespace
        body["apiVersion"], body["kind"] = "v1", "Secret"
        if object_path(body) in self.state.objects:
            return self._send(409, _status(409, "AlreadyExists", "already exists"))
        self.state.add(body)
        self._send(201, self.state.objects[object_path(body)])

    def _replace(self, path: str, current: dict[str, Any], body: dict[str, Any]) -> None:
        if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            return self._send(409, _status(409, "Conflict", "the object has been modified"))
        if body.get("type") != current.get("type"):
            return self._send(422, _status(422, "Invalid", "type: field is immutable"))
        body["metadata"]["resourceVersion"] = self.state.next_version()
        self.state.objects[path] = body
        self._send(200, body)

    def _patch(self, path: str, current: dict[str, Any], ops: Any) -> None:
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json-patch+json":
            return self._send(415, _status(415, "UnsupportedMediaType", "json-patch only"))
        try:
            patched = jsonpatch.apply_patch(current, ops)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            return self._send(422, _status(422, "Invalid", f"the patch failed: {exc}"))
        patched["metadata"]["resourceVersion"] = self.state.next_version()
        self.state.objects[path] = patched
        self._send(200, patched)

    do_GET = do_POST = do_PUT = do_PATCH = _handle


@contextmanager
def fake_apiserver(tmp_path: Path) -> Iterator[tuple[ApiState, Path]]:
    """(state, kubeconfig path) of a running fake API server; stopped on exit."""
    state = ApiState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "fake",
                        "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                    }
                ],
                "users": [{"name": "tester", "user": {"token": TOKEN}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester"}}],
                "current-context": "fake",
            }
        )
    )
    try:
        yield state, kubeconfig
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
