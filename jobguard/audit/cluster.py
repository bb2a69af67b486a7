"""The API server, as audit uses it: paginated lists, patches and wg-policy reports.

Lists come back as plain JSON dicts (``_preload_content=False``), not the client's models: a
field a newer cluster added stays in the object as it is stored instead of being dropped or
rejected by the model classes, and 500 objects of a page never pass through the models' slow
deserialization. Every failure the caller should report and survive is a :class:`ClusterError`
with a message for people.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 500
#: How often one list may start again after its continue token expired (410 Gone).
MAX_RESTARTS = 3
#: (connect, read) seconds per request: an unreachable server fails fast instead of hanging.
REQUEST_TIMEOUT = (10.0, 60.0)

REPORT_GROUP, REPORT_VERSION = "wgpolicyk8s.io", "v1alpha2"
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


class ClusterError(Exception):
    """A request failed in a way the audit reports and survives (403, unreachable, ...)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ReportsNotInstalled(ClusterError):
    """The wgpolicyk8s.io CRDs are not installed."""


@dataclass(frozen=True)
class Resource:
    """A kind audit lists: the label used in messages and the client method names."""

    kind: str
    plural: str


JOBS = Resource("Job", "jobs")
CRONJOBS = Resource("CronJob", "cronjobs")
PODS = Resource("Pod", "pods")


def _reason(exc: Exception) -> str:
    """The Status message of an API error, or the exception's own text."""
    body = getattr(exc, "body", None)
    if isinstance(body, (str, bytes)):
        try:
            status = json.loads(body)
        except ValueError:
            status = None
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            return str(status["message"])
    reason = getattr(exc, "reason", None)
    return str(reason) if reason else f"{type(exc).__name__}: {exc}"


class Cluster:
    """One API server, through a kubernetes ``ApiClient``."""

    def __init__(self, api_client: Any, server: str):
        from kubernetes import client

        self.server = server
        #: What happened that the output should mention (a list that started again).
        self.notes: list[str] = []
        self._api = api_client
        self._batch = client.BatchV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)

    @staticmethod
    def connect(
        *, kubeconfig: str | None = None, context: str | None = None, in_cluster: bool = False
    ) -> Cluster:
        """The cluster of ``context`` in ``kubeconfig`` (or the current one), or the one this pod
        runs in. Raises :class:`ClusterError` when the configuration cannot be used."""
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        try:
            if in_cluster:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            else:
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig, context=context, client_configuration=configuration
                )
        except (ConfigException, OSError, ValueError, TypeError) as exc:
            where = "the in-cluster service account" if in_cluster else "the kubeconfig"
            raise ClusterError(f"cannot use {where}: {exc}") from None
        configuration.retries = 1
        return Cluster(client.ApiClient(configuration), str(configuration.host))

    def version(self) -> tuple[Any, str]:
        """The API server's release and ``gitVersion``, as ``serve --kubernetes-version auto``
        asks it (one bounded attempt, on a copy of the configuration so the lists keep their
        retry). Raises ``ClusterVersionError``."""
        import copy

        from jobguard.webhook.cluster_version import ask_cluster_version

        return ask_cluster_version(copy.deepcopy(self._api.configuration))

    # -- requests ---------------------------------------------------------------------------
    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)`` as JSON, any failure a ClusterError naming ``what``."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            response = method(
                *args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT, **kwargs
            )
            return json.loads(response.data) if response.data else {}
        except ApiException as exc:
            status = int(exc.status) if exc.status else None
            raise ClusterError(f"{what}: HTTP {status}: {_reason(exc)}", status) from None
        except (HTTPError, OSError) as exc:
            raise ClusterError(
                f"{what}: the API server at {self.server} is unreachable ({_reason(exc)})"
            ) from None
        except ValueError as exc:
            raise ClusterError(f"{what}: the API server's answer is not JSON ({exc})") from None

    def _lister(self, resource: Resource, namespace: str | None) -> Any:
        api = self._core if resource is PODS else self._batch
        singular = {"jobs": "job", "cronjobs": "cron_job", "pods": "pod"}[resource.plural]
        if namespace is None:
            return getattr(api, f"list_{singular}_for_all_namespaces")
        return lambda **kw: getattr(api, f"list_namespaced_{singular}")(namespace, **kw)

    def pages(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[list[dict[str, Any]]]:
        """The objects of one list, a page at a time (only one page is held at once).

        A continue token that expired mid-list (410 Gone) starts the list again, from a new
        snapshot: objects already yielded (by uid) are left out, so nothing is judged twice.
        """
        where = f"namespace {namespace!r}" if namespace else "all namespaces"
        what = f"list {resource.plural} in {where}"
        lister = self._lister(resource, namespace)
        seen: set[str] = set()
        restarts = 0
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": page_size}
            if token:
                kwargs["_continue"] = token
            if label_selector:
                kwargs["label_selector"] = label_selector
            try:
                page = self._call(what, lister, **kwargs)
            except ClusterError as exc:
                if exc.status != 410 or not token or restarts >= MAX_RESTARTS:
                    raise
                restarts += 1
                token = None
                self.notes.append(
                    f"{what}: the continue token expired (410 Gone); the list started again "
                    "from a new snapshot, leaving out the objects already judged"
                )
                continue
            items = page.get("items") if isinstance(page, dict) else None
            fresh = []
            for item in items if isinstance(items, list) else []:
                uid = item.get("metadata", {}).get("uid") if isinstance(item, dict) else None
                if isinstance(uid, str):
                    if uid in seen:
                        continue
                    seen.add(uid)
                if isinstance(item, dict):
                    item.setdefault("kind", resource.kind)
                    item.setdefault("apiVersion", "v1" if resource is PODS else "batch/v1")
                    fresh.append(item)
            yield fresh
            metadata = page.get("metadata") if isinstance(page, dict) else None
            token = metadata.get("continue") if isinstance(metadata, dict) else None
            if not token:
                return

    def patch_json(self, kind: str, namespace: str, name: str, ops: list[dict[str, Any]]) -> Any:
        """Apply a JSON Patch (``application/json-patch+json``) to a Job or CronJob."""
        method = (
            self._batch.patch_namespaced_job
            if kind == "Job"
            else self._batch.patch_namespaced_cron_job
        )
        return self._call(
            f"patch {kind} {namespace}/{name}",
            method,
            name,
            namespace,
            ops,
            _content_type="application/json-patch+json",
        )

    # -- wg-policy reports -------------------------------------------------------------------
    def check_reports_installed(self) -> None:
        """Raise :class:`ReportsNotInstalled` unless both report kinds are served."""
        try:
            found = self._call(
                f"discover {REPORT_GROUP}/{REPORT_VERSION}",
                self._custom.get_api_resources,
                REPORT_GROUP,
                REPORT_VERSION,
            )
        except ClusterError as exc:
            if exc.status == 404:
                raise ReportsNotInstalled(
                    f"the PolicyReport CRDs ({REPORT_GROUP}/{REPORT_VERSION}) are not installed "
                    "in this cluster; install them (kubectl apply -f the wg-policy-prototypes "
                    "CRDs, or Kyverno / Policy Reporter which ship them) to use --report",
                    404,
                ) from None
            raise
        names = {r.get("name") for r in found.get("resources", []) if isinstance(r, dict)}
        missing = {"policyreports", "clusterpolicyreports"} - names
        if missing:
            raise ReportsNotInstalled(
                f"{REPORT_GROUP}/{REPORT_VERSION} does not serve {', '.join(sorted(missing))}; "
                "install the wg-policy CRDs to use --report",
                404,
            )

    def put_report(self, report: dict[str, Any]) -> str:
        """Create ``report`` or replace the one of the same name: ``"created"`` or ``"updated"``."""
        metadata = report["metadata"]
        name, namespace = metadata["name"], metadata.get("namespace")
        plural = "policyreports" if namespace else "clusterpolicyreports"
        shown = f"{report['kind']} {namespace + '/' if namespace else ''}{name}"
        scope: tuple[Any, ...] = (
            (REPORT_GROUP, REPORT_VERSION, namespace, plural)
            if namespace
            else (REPORT_GROUP, REPORT_VERSION, plural)
        )
        suffix = "namespaced" if namespace else "cluster"
        get = getattr(self._custom, f"get_{suffix}_custom_object")
        try:
            existing = self._call(f"get {shown}", get, *scope, name)
        except ClusterError as exc:
            if exc.status != 404:
                raise
            create = getattr(self._custom, f"create_{suffix}_custom_object")
            self._call(f"create {shown}", create, *scope, report)
            return "created"
        version = existing.get("metadata", {}).get("resourceVersion")
        body = {**report, "metadata": {**metadata, "resourceVersion": version}}
        replace = getattr(self._custom, f"replace_{suffix}_custom_object")
        self._call(f"replace {shown}", replace, *scope, name, body)
        return "updated"
