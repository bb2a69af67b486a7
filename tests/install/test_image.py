"""The image, built from the Dockerfile and run: buildah builds it offline from a wheelhouse, then
runs its entrypoint (`buildah run --isolation chroot`; no container daemon exists here) with the
certificate and policy mounted where deploy/base mounts them. The server answers /healthz and
/mutate over TLS as uid 10001 and writes nothing outside /tmp.

buildah's chroot isolation shares the host's network, so the test binds the server to a free
port on 127.0.0.1 (the image's CMD with only --bind replaced) instead of 0.0.0.0:8443.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.install import image
from tests.install.conftest import report
from tests.webhook.support import (
    Server,
    SessionCA,
    free_port,
    review_for,
    wait_ready,
)

pytestmark = pytest.mark.slow

_missing = image.missing_tools()
if _missing:
    pytest.skip(_missing, allow_module_level=True)

#: Where deploy/base mounts the Secret, the policy ConfigMap and the emptyDir.
TLS_DIR, POLICY_DIR, TMP = "/etc/jobguard/tls", "/etc/jobguard/policy", "/tmp"
#: What `buildah run` itself adds to the container's filesystem: the volumes' mount points and
#: its marker file. Anything else changed would be the server's doing.
BUILDAH_RUN_CREATES = [
    "etc/jobguard",
    "etc/jobguard/policy",
    "etc/jobguard/tls",
    "run/.containerenv",
]
PI_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi", "namespace": "batch-demo"},
    "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.40"}]}}},
}


@dataclass(frozen=True)
class Built:
    buildah: image.Buildah
    image: image.BuiltImage


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    where = tmp_path_factory.mktemp("image")
    buildah = image.Buildah(where / "storage")
    try:
        try:
            made = image.build(buildah, where)
        except FileNotFoundError as missing:  # no registry and no mmdebstrap
            pytest.skip(str(missing))
        report(
            f"image {made.name} on {made.base}: {made.size_bytes / 1e6:.0f} MB unpacked, "
            f"built in {made.build_seconds:.0f} s, digest {made.digest}"
        )
        yield Built(buildah, made)
    finally:
        buildah.clean()


@dataclass
class Running:
    server: Server
    container: str
    rootfs: Path
    tmp: Path
    before: dict[str, tuple[int, int, int, int]]
    metrics_port: int


def mounted_files(where: Path, ca: SessionCA) -> tuple[Path, Path]:
    """The Secret and ConfigMap as the kubelet would project them: owned by root, readable by
    the pod's group (fsGroup 10001, defaultMode 0440)."""
    tls, policy = where / "tls", where / "policy"
    tls.mkdir()
    policy.mkdir()
    ca.issue(tls / "tls.crt", tls / "tls.key")
    policy.joinpath("default.yaml").write_bytes((image.ROOT / "policies/default.yaml").read_bytes())
    for path in (tls / "tls.crt", tls / "tls.key"):
        os.chown(path, 0, 10001)
        path.chmod(0o440)
    return tls, policy


def entrypoint_command(made: image.BuiltImage, port: int, metrics_port: int) -> list[str]:
    """The image's ENTRYPOINT and CMD, with --bind and --metrics-port moved to free ports on
    the loopback interface."""
    moved = {"--bind": f"127.0.0.1:{port}", "--metrics-port": str(metrics_port)}
    args = list(made.cmd)
    for option, value in moved.items():
        [index] = [i for i, a in enumerate(args) if a.startswith(option + "=")]
        args[index] = f"{option}={value}"
    return [*made.entrypoint, *args]


@pytest.fixture(scope="module")
def running(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    where = tmp_path_factory.mktemp("run")
    ca = SessionCA(where)
    tls, policy = mounted_files(where, ca)
    tmp = where / "tmp"
    tmp.mkdir(mode=0o1777)
    tmp.chmod(0o1777)
    buildah = built.buildah
    container = buildah.run("from", "--name", "jobguard-serve", built.image.name)
    rootfs = Path(buildah.run("mount", container))
    before = image.snapshot(rootfs, skip=("proc", "sys", "dev", "tmp"))
    port, metrics_port = free_port(), free_port()
    log_path = where / "serve.log"
    volumes = [f"{tls}:{TLS_DIR}:ro", f"{policy}:{POLICY_DIR}:ro", f"{tmp}:{TMP}"]
    command = buildah.command("run", "--isolation", "chroot")
    for volume in volumes:
        command += ["--volume", volume]
    command += [container, "--", *entrypoint_command(built.image, port, metrics_port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, ca.ca_path, log_path, tls / "tls.crt", tls / "tls.key")
    try:
        wait_ready(server, timeout=120)
        yield Running(server, container, rootfs, tmp, before, metrics_port)
    finally:
        server.session.close()
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End `buildah run` and the server it started (its own process group), if still running."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_the_image_runs_jobguard_as_the_dockerfile_says(built: Built) -> None:
    assert built.image.entrypoint == ("jobguard",)
    assert built.image.user == "10001:10001"
    assert built.image.cmd[0] == "serve"


def test_healthz_answers_over_tls(running: Running) -> None:
    response = running.server.get("/healthz", fresh=True)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_mutate_fills_in_the_restart_policy_with_the_mounted_policy(running: Running) -> None:
    from tests.webhook.support import patch_ops

    answer = running.server.review("mutate", review_for(PI_JOB))
    assert answer["response"]["allowed"] is True
    ops = patch_ops(answer)
    assert {
        "op": "add",
        "path": "/spec/template/spec/restartPolicy",
        "value": "Never",
    } in ops


def test_metrics_answer_on_their_own_port_over_plain_http(running: Running) -> None:
    import requests

    running.server.review("validate", review_for(PI_JOB))
    response = requests.get(f"http://127.0.0.1:{running.metrics_port}/metrics", timeout=10)
    assert response.status_code == 200
    assert "# TYPE jobguard_admission_requests_total counter" in response.text


def test_every_server_process_runs_as_uid_10001_inside_the_image(running: Running) -> None:
    inside = [
        pid
        for pid in image.processes_under(running.server.process.pid)
        if image.ids_of(pid)[2] != "/"
    ]
    assert len(inside) >= 2, "expected the gunicorn arbiter and at least one worker"
    assert {image.ids_of(pid)[:2] for pid in inside} == {("10001", "10001")}


def test_nothing_outside_tmp_is_written(running: Running) -> None:
    running.server.review("mutate", review_for(PI_JOB))
    running.server.review("validate", review_for(PI_JOB))
    after = image.snapshot(running.rootfs, skip=("proc", "sys", "dev", "tmp"))
    assert before_after_keys(running.before, after) == BUILDAH_RUN_CREATES
    # The server did write: its metrics directory (and gunicorn's heartbeats) are in /tmp.
    assert [p.name.startswith("jobguard-metrics-") for p in running.tmp.iterdir()] == [True]


def before_after_keys(
    before: dict[str, tuple[int, int, int, int]], after: dict[str, tuple[int, int, int, int]]
) -> list[str]:
    return [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def test_the_write_check_sees_a_write_outside_tmp(built: Built) -> None:
    """The control: the same snapshot notices a file written to a world-writable directory."""
    buildah = built.buildah
    container = buildah.run("from", "--name", "jobguard-control", built.image.name)
    rootfs = Path(buildah.run("mount", container))
    before = image.snapshot(rootfs, skip=("proc", "sys", "dev", "tmp"))
    buildah.run(
        "run", "--isolation", "chroot", container, "--",
        "python3", "-c", "open('/var/tmp/written', 'w').write('x')",
    )  # fmt: skip
    after = image.snapshot(rootfs, skip=("proc", "sys", "dev", "tmp"))
    assert before_after_keys(before, after) == ["var/tmp/written"]
    buildah.run("rm", container)


def test_the_image_holds_the_version_of_the_source(built: Built) -> None:
    from jobguard import __version__

    buildah = built.buildah
    container = buildah.run("from", "--name", "jobguard-version", built.image.name)
    out = buildah.run("run", "--isolation", "chroot", container, "--", "jobguard", "--version")
    buildah.run("rm", container)
    assert out == f"jobguard, version {__version__}"


def test_the_same_inputs_build_the_same_image(built: Built, tmp_path: Path) -> None:
    """Reproducible: a second build from the same base, source and wheelhouse (its own copy of
    the build context) is the same image, bit for bit."""
    again = image.build(built.buildah, tmp_path, base=built.image.base, tag="again")
    report(f"rebuilt in {again.build_seconds:.0f} s: digest {again.digest}")
    assert again.digest == built.image.digest
