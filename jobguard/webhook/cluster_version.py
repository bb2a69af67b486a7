"""``jobguard serve --kubernetes-version auto``: ask the cluster which Kubernetes it runs.

At start-up, before the workers fork, the webhook asks the API server's ``/version`` with the
Kubernetes client and the pod's service account (in-cluster configuration: the
``KUBERNETES_SERVICE_HOST``/``PORT`` environment, the mounted token and CA). ``/version`` is
readable by every authenticated client (the ``system:public-info-viewer`` role), so no RBAC
is needed. The answer's ``major``/``minor`` name the release; managed services append ``+``
to the minor (``"36+"``, GKE and EKS) and put their build in ``gitVersion``
(``v1.36.2-eks-1234``), which is read when ``minor`` is missing.

The webhook never fails to start because of this: an unreachable API server, a timeout, an
error status or an answer that is not a version falls back to the default version with a
warning saying why; a release outside the supported range is clamped to the nearest supported
one, also with a warning. The request is bounded (:data:`TIMEOUT_SECONDS`) and not retried:
start-up must not hang.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from jobguard.core.kubernetes.versions import (
    DEFAULT_KUBERNETES_VERSION,
    NEWEST,
    OLDEST,
    Version,
    show,
    supported_range,
)

TIMEOUT_SECONDS = 5.0
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class ClusterVersionError(RuntimeError):
    """The API server could not be asked, or its answer names no Kubernetes release."""


def version_from_info(info: Mapping[str, Any]) -> Version:
    """(major, minor) of a ``/version`` answer; raises ClusterVersionError when it names none."""
    major, minor = info.get("major"), info.get("minor")
    if isinstance(major, str) and isinstance(minor, str):
        m_major = re.fullmatch(r"([0-9]{1,4})\+?", major.strip())
        m_minor = re.fullmatch(r"([0-9]{1,4})\+?", minor.strip())
        if m_major and m_minor:
            return int(m_major.group(1)), int(m_minor.group(1))
    git_version = info.get("gitVersion")
    if isinstance(git_version, str):
        m = re.match(r"v([0-9]{1,4})\.([0-9]{1,4})(?:[.+-]|$)", git_version.strip())
        if m:
            return int(m.group(1)), int(m.group(2))
    shown = {k: info.get(k) for k in ("major", "minor", "gitVersion")}
    raise ClusterVersionError(f"the answer names no Kubernetes release: {shown}")


def in_cluster_configuration(
    environ: Mapping[str, str] | None = None, directory: str = SERVICE_ACCOUNT_DIR
) -> Any:
    """A client ``Configuration`` from the pod's service account (raises ClusterVersionError)."""
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException

    # The client's config loaders are untyped in some releases: go through Any.
    incluster: Any = importlib.import_module("kubernetes.config.incluster_config")
    configuration = client.Configuration()
    loader = incluster.InClusterConfigLoader(
        token_filename=os.path.join(directory, "token"),
        cert_filename=os.path.join(directory, "ca.crt"),
        environ=os.environ if environ is None else environ,
    )
    try:
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ClusterVersionError(f"not running in a cluster ({exc})") from None
    return configuration


def ask_cluster_version(
    configuration: Any, timeout: float = TIMEOUT_SECONDS
) -> tuple[Version, str]:
    """The API server's release and its ``gitVersion`` (for the log). Raises ClusterVersionError."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    configuration.retries = 0  # one bounded attempt: start-up must not hang on a dead server
    with client.ApiClient(configuration) as api:
        try:
            # _preload_content=False: the raw JSON, so that an odd answer is reported as it is
            # rather than as a client deserialisation error.
            response: Any = client.VersionApi(api).get_code(
                _request_timeout=timeout, _preload_content=False
            )
            body = response.data
        except ApiException as exc:
            raise ClusterVersionError(f"GET /version: HTTP {exc.status} {exc.reason}") from None
        except (HTTPError, OSError) as exc:
            raise ClusterVersionError(f"GET /version: {type(exc).__name__}: {exc}") from None
    import json

    try:
        info = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ClusterVersionError(
            f"GET /version answered something that is not JSON: {body[:80]!r}"
        ) from None
    if not isinstance(info, dict):
        raise ClusterVersionError(f"GET /version answered {type(info).__name__}, not an object")
    git_version = info.get("gitVersion")
    return version_from_info(info), str(git_version) if git_version is not None else "?"


def target_version(
    setting: Version | None,
    log: Callable[[str], None],
    ask: Callable[[], tuple[Version, str]] | None = None,
) -> Version:
    """The version the webhook's rules target: ``setting``, or for ``auto`` (None) the
    cluster's, with ``DEFAULT_KUBERNETES_VERSION`` when the cluster cannot tell."""
    if setting is not None:
        log(f"version-dependent rules target Kubernetes {show(setting)} (--kubernetes-version)")
        return setting
    if ask is None:

        def ask() -> tuple[Version, str]:
            return ask_cluster_version(in_cluster_configuration())

    try:
        found, git_version = ask()
    except ClusterVersionError as exc:
        log(
            f"warning: cannot learn the cluster's Kubernetes version: {exc}; version-dependent "
            f"rules target the default, Kubernetes {show(DEFAULT_KUBERNETES_VERSION)}"
        )
        return DEFAULT_KUBERNETES_VERSION
    if found < OLDEST or found > NEWEST:
        clamped = OLDEST if found < OLDEST else NEWEST
        log(
            f"warning: the API server runs Kubernetes {show(found)} ({git_version}), outside "
            f"the supported {supported_range()}; version-dependent rules target {show(clamped)}"
        )
        return clamped
    log(
        f"the API server runs Kubernetes {show(found)} ({git_version}); version-dependent "
        f"rules target {show(found)}"
    )
    return found
