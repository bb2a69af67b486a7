"""The Flask application: HTTP guards, the two webhooks, health and readiness; and the metrics
application, served on a port of its own (:func:`metrics_app`).

HTTP-level guards run in a fixed order before any JSON is parsed: method (routing, 405),
content type (415), declared size (413, before reading anything), size actually read (413, the
read itself is capped), JSON (400), AdmissionReview shape (400). Input never causes a 500.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from jobguard.core.model import Finding
from jobguard.policy import Policy
from jobguard.webhook import admission, logs, responses
from jobguard.webhook.admission import INVALID, MUTATE, VALIDATE, Outcome
from jobguard.webhook.framing import received_body
from jobguard.webhook.metrics import Metrics
from jobguard.webhook.policy_holder import REJECTED, PolicyHolder, PolicyState
from jobguard.webhook.responses import Answer
from jobguard.webhook.review import Review, ReviewError, decode_json, parse_review
from jobguard.webhook.settings import Settings

JSON = "application/json"
#: Set in the WSGI environ when a request body is refused unread: the connection must close
#: rather than have the server drain (possibly endless) body bytes to reuse it.
CLOSE_CONNECTION = "jobguard.close_connection"
#: How much of a refused body is read and dropped to keep the connection usable.
DISCARD_LIMIT = 256 * 1024
DISCARD_CHUNK = 64 * 1024
Handler = Callable[[Review, Policy, tuple[int, int]], Outcome]
HANDLERS: dict[str, Handler] = {MUTATE: admission.mutate, VALIDATE: admission.validate}
METRIC_KINDS = ("Job", "CronJob")


def http_response(answer: Answer) -> Response:
    # The header as a ready list: ``mimetype=`` works out a charset parameter on every response.
    return Response(answer.body, status=answer.http_status, headers=[("Content-Type", JSON)])


def discard_body(limit: int) -> None:
    """Read and drop the rest of a refused body, up to ``limit`` bytes, so the connection can
    carry the next request; a longer (or unreadable) rest closes the connection instead.

    Closing with unread bytes in the socket makes the kernel reset the connection, which can
    destroy the error answer before the client reads it: a modest excess is cheaper to read.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        request.environ[CLOSE_CONNECTION] = True
        return
    try:
        if len(read_capped(request.stream, None, limit)) <= limit:
            return  # the whole rest was read: the connection can carry the next request
    except Exception:
        pass
    request.environ[CLOSE_CONNECTION] = True


def read_capped(stream: Any, declared: int | None, max_bytes: int) -> bytes:
    """The body: ``declared`` bytes when the length was given (checked against the limit
    already), else chunks until the end or one byte past ``max_bytes`` (read and dropped by
    :func:`discard_body` too).

    Never ``stream.read(max_bytes + 1)`` in one call: Werkzeug's LimitedStream is a
    RawIOBase, whose ``read(n)`` allocates an ``n``-byte buffer first, so every review cost a
    4 MiB allocation however small it was.
    """
    if declared is not None:
        data: bytes = stream.read(declared)
        return data
    chunks: list[bytes] = []
    left = max_bytes + 1
    while left > 0:
        chunk = stream.read(min(DISCARD_CHUNK, left))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def mimetype(environ: dict[str, Any]) -> str:
    """The request's media type without parameters, lower case (``request.mimetype`` parses
    every parameter of the header first: a measurable part of a review's cost)."""
    return str(environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()


def read_body(max_bytes: int) -> bytes | Answer:
    """The request body, or the error answer of the first HTTP guard that fails."""
    environ = request.environ
    given = mimetype(environ)
    if given != JSON:
        discard_body(DISCARD_LIMIT)
        return responses.error(415, f"Content-Type must be {JSON}, got {given or 'none'}")
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        # Decided on the header alone: nothing of an oversized body is parsed or waited for;
        # the uid is looked for in what came with the headers.
        uid = uid_in(received_body(environ["wsgi.input"])[:UID_SEARCH_BYTES])
        discard_body(DISCARD_LIMIT)
        return responses.error(
            413, f"request body of {declared} bytes is over the {max_bytes}-byte limit", uid
        )
    # With a declared length the server's own input stream is already bounded by it (gunicorn
    # and Werkzeug both), and reading it directly skips building Werkzeug's LimitedStream per
    # request; a chunked body goes through ``request.stream``, which knows where it ends.
    stream = environ["wsgi.input"] if declared is not None else request.stream
    try:
        body = read_capped(stream, declared, max_bytes)
    except Exception as exc:  # the server's body reader raises its own errors (bad chunking)
        request.environ[CLOSE_CONNECTION] = True
        return responses.error(400, f"cannot read the request body: {type(exc).__name__}")
    if len(body) > max_bytes:
        discard_body(DISCARD_LIMIT)
        uid = uid_in(body[:UID_SEARCH_BYTES])
        return responses.error(413, f"request body is over the {max_bytes}-byte limit", uid)
    return body


#: The API server writes the request uid within the first 200 bytes of a review.
UID_SEARCH_BYTES = 4096
#: The request uid as the API server writes it, first thing in ``request``.
_UID = re.compile(rb'"uid"\s*:\s*"([^"\\]{1,128})"')


def uid_in(head: bytes) -> str | None:
    """The request uid found in the first bytes of a body too large to parse, if any (for the
    log line and the answer; nothing is judged from it)."""
    found = _UID.search(head)
    return found.group(1).decode("utf-8", "replace") if found else None


def _rules(findings: tuple[Finding, ...]) -> list[str]:
    return [f"{f.rule}@{f.field}" for f in findings]


class Webhook:
    """Request handling with its policy holder, metrics and loggers."""

    def __init__(self, settings: Settings, metrics: Metrics, holder: PolicyHolder):
        self.settings = settings
        self.metrics = metrics
        self.holder = holder
        self.log = logs.RequestLog()
        self.pid = os.getpid()  # the app is built in the worker, after the fork

    def handle(self, webhook: str) -> Response:
        started = time.perf_counter()
        review: Review | None = None
        outcome: Outcome
        body = read_body(self.settings.max_request_bytes)
        try:
            if isinstance(body, Answer):
                outcome = Outcome(body, INVALID, body.review["response"]["status"]["message"])
                if body.http_status == 413:
                    self.metrics.too_large.labels(webhook).inc()
            else:
                review = parse_review(decode_json(body))
                policy = self.holder.current()
                outcome = HANDLERS[webhook](review, policy, self.settings.kubernetes_version)
        except ReviewError as exc:
            outcome = Outcome(responses.error(400, exc.message, exc.uid), INVALID, exc.message)
        except RecursionError:
            uid = review.uid if review is not None else None
            message = "object is nested too deeply to be judged"
            outcome = Outcome(responses.error(400, message, uid), INVALID, message)
        elapsed = time.perf_counter() - started
        self.record(webhook, review, outcome, elapsed)
        return http_response(outcome.answer)

    def record(self, webhook: str, review: Review | None, outcome: Outcome, elapsed: float) -> None:
        kind = review.kind["kind"] if review is not None else "unknown"
        operation = review.operation if review is not None else "unknown"
        metric_kind = kind if kind in METRIC_KINDS or kind == "unknown" else "other"
        m = self.metrics
        count = m.counts.inc
        count(m.child(m.requests, webhook, metric_kind, operation, outcome.decision))
        m.child(m.duration, webhook).observe(elapsed)
        for finding in outcome.findings:
            count(m.child(m.findings, webhook, finding.rule, finding.action.value))
            if finding.failed_rule is not None:
                count(m.child(m.rule_errors, webhook, finding.failed_rule))
        line: dict[str, Any] = {
            "event": "admission",
            "webhook": webhook,
            "uid": review.uid if review is not None else outcome.answer.review["response"]["uid"],
            "kind": kind,
            "namespace": review.namespace if review is not None else None,
            "name": _object_name(review),
            "operation": operation,
            "user": review.username if review is not None else None,
            "dry_run": review.dry_run if review is not None else None,
            "decision": outcome.decision,
            "status": outcome.answer.http_status,
            "rules": _rules(outcome.findings),
            "denied_by": _rules(outcome.blocking),
            "duration_ms": round(elapsed * 1000, 3),
            "pid": self.pid,
        }
        if outcome.reason:
            line["reason"] = outcome.reason
        self.log.write("warning" if outcome.decision == INVALID else "info", line)


def _object_name(review: Review | None) -> str | None:
    if review is None:
        return None
    if review.name:
        return review.name
    metadata = review.object.get("metadata") if review.object is not None else None
    generate = metadata.get("generateName") if isinstance(metadata, dict) else None
    return f"{generate}*" if isinstance(generate, str) and generate else None


def _policy_listener(metrics: Metrics) -> Callable[[str, PolicyState], None]:
    log = logs.event_logger()

    def listen(event: str, state: PolicyState) -> None:
        metrics.policy_reloads.labels(event).inc()
        metrics.policy_stale.set(1 if state.stale else 0)
        if event == REJECTED:
            log.error(
                {
                    "event": "policy_rejected",
                    "error": state.rejected_error,
                    "serving": list(state.policy.sources),
                }
            )
        else:
            metrics.policy_loaded.set(state.loaded_at)
            log.info({"event": "policy_reloaded", "sources": list(state.policy.sources)})

    return listen


def readiness(state: PolicyState) -> dict[str, Any]:
    """/readyz body. A rejected new policy keeps the pod ready: it still serves the last good
    one, and taking every replica out of the Service at once (they all mount the same
    ConfigMap) would stop the cluster's Job creation."""
    return {
        "status": "ok",
        "policy": {
            "sources": list(state.policy.sources),
            "loaded_at": state.loaded_at,
            "reloads": state.reloads,
            "stale": state.stale,
            "rejected_error": state.rejected_error,
        },
    }


def metrics_app(metrics: Metrics) -> Callable[[dict[str, Any], Any], list[bytes]]:
    """The WSGI application of the metrics port: ``GET /metrics`` and nothing else.

    A scrape only reads: it does not check the policy files or touch the admission state (the
    policy gauges show what the worker last saw on a review or a readiness probe).
    """

    def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if path != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: the metrics port serves GET /metrics only\n"]
        if method not in ("GET", "HEAD"):
            start_response(
                "405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET")]
            )
            return [b"method not allowed: GET /metrics\n"]
        payload, content_type = metrics.exposition()
        start_response("200 OK", [("Content-Type", content_type)])
        return [payload if method == "GET" else b""]

    return serve


def create_app(settings: Settings | None = None) -> Flask:
    """The webhook application. Raises PolicyError if the policy does not load."""
    settings = settings or Settings()
    logs.configure()
    metrics = Metrics(settings.cert_path)
    holder = PolicyHolder(
        settings.policy_paths,
        check_interval=settings.policy_check_interval,
        listener=_policy_listener(metrics),
    )
    metrics.policy_stale.set(0)
    metrics.policy_loaded.set(holder.state.loaded_at)
    webhook = Webhook(settings, metrics, holder)

    app = Flask("jobguard.webhook")
    app.extensions["jobguard"] = webhook

    @app.post("/mutate")
    def mutate() -> Response:
        return webhook.handle(MUTATE)

    @app.post("/validate")
    def validate() -> Response:
        return webhook.handle(VALIDATE)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', mimetype=JSON)

    @app.get("/readyz")
    def readyz() -> dict[str, Any]:
        holder.current()  # a readiness probe also notices a changed policy file
        return readiness(holder.state)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 400
        message = f"{request.method} {request.path}: {exc.name}"
        if code == 405:
            allowed = ", ".join(getattr(exc, "valid_methods", None) or ())
            message += f" (allowed: {allowed})"
        response = http_response(responses.error(code, message))
        if code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response:
        # A bug, not input: answer 500 so the API server applies the configured failurePolicy.
        logs.event_logger().exception({"event": "internal_error", "path": request.path})
        return http_response(responses.error(500, "internal error in jobguard; see its log"))

    return app
