# jobguard webhook image.
#
#   docker build -t jobguard:0.2.0 .
#
# Offline and reproducible (what the tests do): build the wheels outside the image, then build
# with no package index at all. The wheelhouse also holds the build backend (hatchling), because
# the jobguard wheel is built inside from the copied source:
#
#   pip wheel --wheel-dir wheelhouse '.[server]' hatchling
#   docker build --build-arg PIP_NO_INDEX=1 -t jobguard:0.2.0 .
#
# Reproducible: with SOURCE_DATE_EPOCH set (bytecode by hash, the wheel's timestamps) and the
# image's timestamps fixed, the same base and wheelhouse give the same image, bit for bit
# (buildah bud --timestamp 0 --build-arg SOURCE_DATE_EPOCH=0; tests/install/test_image.py).
#
# BASE_IMAGE is any Debian-like image with python3 (3.10 or later) and its venv module: the
# default, or e.g. a Debian bookworm with the python3 and python3-venv packages. jobguard lives in
# a virtualenv (/opt/jobguard), so the base's own Python packages are never touched.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# Stage 1: wheels for jobguard and every dependency, installed into the virtualenv.
FROM ${BASE_IMAGE} AS build
ARG SOURCE_DATE_EPOCH
ARG PIP_NO_INDEX=
ENV PIP_NO_INDEX=${PIP_NO_INDEX} \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY wheelhouse/ /wheelhouse/
COPY pyproject.toml README.md ./
COPY jobguard ./jobguard
COPY policies ./policies
RUN python3 -m venv /opt/build \
 && /opt/build/bin/pip wheel --find-links /wheelhouse --wheel-dir /wheels ".[server]" \
 && python3 -m venv /opt/jobguard \
 && /opt/jobguard/bin/pip install --no-index --find-links /wheels "jobguard[server]==0.2.0" \
 && /opt/jobguard/bin/pip uninstall --yes pip setuptools

# Stage 2: the virtualenv on a clean base, run as an unprivileged user. Nothing is written at run
# time but /tmp (gunicorn's heartbeat files; mounted in Kubernetes, the root is read-only).
FROM ${BASE_IMAGE}
ARG SOURCE_DATE_EPOCH
LABEL org.opencontainers.image.title="jobguard" \
      org.opencontainers.image.description="Kubernetes Job and CronJob policy: admission webhook, linter, audit" \
      org.opencontainers.image.version="0.2.0" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/jobguard/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 jobguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin jobguard
COPY --from=build /opt/jobguard /opt/jobguard
USER 10001:10001
EXPOSE 8443 9090
ENTRYPOINT ["jobguard"]
# The files deploy/base mounts: the TLS Secret and the policy ConfigMap.
CMD ["serve", "--cert=/etc/jobguard/tls/tls.crt", "--key=/etc/jobguard/tls/tls.key", "--bind=0.0.0.0:8443", "--policy=/etc/jobguard/policy/default.yaml", "--kubernetes-version=auto", "--metrics-port=9090"]
