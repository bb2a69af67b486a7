"""Running the real webhook for tests: a test CA, policies, a gunicorn subprocess, and reviews."""

from __future__ import annotations

import base64
import copy
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpatch
import requests
import yaml

from jobguard.certs import parse_subject_names
from jobguard.certs.files import write_atomic
from jobguard.certs.pki import KeyPair, generate_ca, issue_serving_certificate
from jobguard.rules import ALL_RULES
from tests.helpers import FIXTURES, POLICY_FIXTURES

ADMISSION = FIXTURES / "admission"
WEBHOOK_POLICY = POLICY_FIXTURES / "webhook.yaml"
SERVER_NAMES = ("127.0.0.1", "localhost")

#: What the API server sends with every call (tests/fixtures/admission/HEADERS.txt).
APISERVER_HEADERS = {
    "User-Agent": "kube-apiserver-admission",
    "Accept": "application/json, */*",
    "Content-Type": "application/json",
    "Accept-Encoding": "gzip",
}


def fixture_names() -> list[str]:
    return sorted(p.name for p in ADMISSION.glob("*.json"))


def load_review(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ADMISSION / name).read_text())
    return data


def review_for(
    obj: dict[str, Any] | None,
    *,
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """An AdmissionReview v1 request as the API server would send it for ``obj``."""
    source = obj if obj is not None else old
    assert source is not None
    kind = source["kind"]
    metadata = source.get("metadata", {})
    request: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "kind": {"group": "batch", "version": "v1", "kind": kind},
        "resource": {"group": "batch", "version": "v1", "resource": kind.lower() + "s"},
        "namespace": metadata.get("namespace", "batch-demo"),
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": dry_run,
    }
    if metadata.get("name"):
        request["name"] = metadata["name"]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def fixture_object(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = copy.deepcopy(load_review(name)["request"]["object"])
    return obj


def patch_ops(answer: dict[str, Any]) -> list[dict[str, Any]]:
    response = answer["response"]
    if "patch" not in response:
        return []
    assert response["patchType"] == "JSONPatch"
    ops: list[dict[str, Any]] = json.loads(base64.b64decode(response["patch"]))
    return ops


def apply_patch(obj: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    patched: dict[str, Any] = jsonpatch.JsonPatch(patch_ops(answer)).apply(obj)
    return patched


# -- policies ---------------------------------------------------------------------------------


def write_policy(path: Path, rules: dict[str, Any], **top: Any) -> Path:
    doc = {"apiVersion": "jobguard.dev/v1", "kind": "Policy", **top, "rules": rules}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def all_rules_off(directory: Path) -> Path:
    """A policy turning off every registered rule, to layer a test policy over."""
    return write_policy(
        directory / "all-rules-off.yaml", {r.name: {"action": "off"} for r in ALL_RULES}
    )


def webhook_policy_paths(directory: Path, *more: Path) -> list[str]:
    """``--policy`` files for the webhook test policy (plus ``more`` layered on top)."""
    return [str(all_rules_off(directory)), str(WEBHOOK_POLICY), *map(str, more)]


# -- TLS --------------------------------------------------------------------------------------


@dataclass
class SessionCA:
    directory: Path
    ca: KeyPair = field(default_factory=lambda: generate_ca("jobguard test CA"))

    @property
    def ca_path(self) -> Path:
        path = self.directory / "ca.crt"
        if not path.exists():
            path.write_bytes(self.ca.certificate_pem())
        return path

    def issue(self, cert_path: Path, key_path: Path) -> KeyPair:
        """A new serving pair for 127.0.0.1/localhost, written key first, atomically."""
        pair = issue_serving_certificate(self.ca, parse_subject_names(SERVER_NAMES))
        write_atomic(key_path, pair.private_key_pem(), 0o600)
        write_atomic(cert_path, pair.certificate_pem(), 0o644)
        return pair


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different ports free right now (held open together while they are picked)."""
    held = [socket.socket() for _ in range(count)]
    try:
        for s in held:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in held]
    finally:
        for s in held:
            s.close()


# -- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    """A running ``jobguard serve`` subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    ca_path: Path
    log_path: Path
    cert_path: Path
    key_path: Path
    metrics_port: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {**APISERVER_HEADERS, **kwargs.pop("headers", {})}
        return self.session.post(
            self.url + path,
            data=data,
            headers=headers,
            verify=str(self.ca_path),
            timeout=10,
            **kwargs,
        )

    def review(self, webhook: str, review: dict[str, Any]) -> dict[str, Any]:
        """POST a review as the API server does; assert HTTP 200 and the uid echo."""
        r = self.post(f"/{webhook}?timeout=5s", review)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        assert answer["apiVersion"] == "admission.k8s.io/v1"
        assert answer["kind"] == "AdmissionReview"
        assert answer["response"]["uid"] == review["request"]["uid"]
        return answer

    def get(self, path: str, fresh: bool = False) -> requests.Response:
        client = requests if fresh else self.session
        return client.get(self.url + path, verify=str(self.ca_path), timeout=10)

    def settle_log(self) -> None:
        """Wait until the request lines of answered requests are written (the workers write
        them in batches, every FLUSH_INTERVAL seconds)."""
        from jobguard.webhook.logs import FLUSH_INTERVAL

        time.sleep(3 * FLUSH_INTERVAL)

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log_path.read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``, once every worker
        has written its counts (each does so every COUNT_FLUSH_INTERVAL seconds)."""
        from jobguard.webhook.metrics import COUNT_FLUSH_INTERVAL

        time.sleep(3 * COUNT_FLUSH_INTERVAL)
        return metric_value(self.scrape().text, name, **labels)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def scrape(self) -> requests.Response:
        """GET /metrics on the metrics port (plain HTTP), as Prometheus does."""
        response = requests.get(self.metrics_url, timeout=10)
        assert response.status_code == 200, response.text
        return response


def metric_value(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jobguard serve exited with {server.process.returncode}:\n"
                + server.log_path.read_text()
            )
        try:
            if server.get("/healthz", fresh=True).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError("jobguard serve did not become ready:\n" + server.log_path.read_text())


def serve_command(
    port: int,
    cert: Path,
    key: Path,
    policies: Sequence[str],
    extra: Sequence[str] = (),
    metrics_port: int = 0,
) -> list[str]:
    cmd = [sys.executable, "-m", "jobguard", "serve", "--cert", str(cert), "--key", str(key)]
    cmd += ["--bind", f"127.0.0.1:{port}", "--metrics-port", str(metrics_port)]
    for p in policies:
        cmd += ["--policy", p]
    return [*cmd, *extra]


@contextmanager
def running_server(
    directory: Path,
    ca: SessionCA,
    policies: Sequence[str],
    extra: Sequence[str] = ("--workers", "2", "--threads", "8"),
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``jobguard serve`` on a free port with a fresh serving certificate; stop it after.
    ``env`` adds to (or overrides) the test's environment for the server."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "tls.crt", directory / "tls.key"
    ca.issue(cert, key)
    port, metrics_port = free_ports(2)
    log_path = directory / "server.log"
    server_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    server_env.update(env or {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            serve_command(port, cert, key, policies, extra, metrics_port),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env=server_env,
        )
    server = Server(process, port, ca.ca_path, log_path, cert, key, metrics_port)
    try:
        wait_ready(server)
        yield server
    finally:
        server.session.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
