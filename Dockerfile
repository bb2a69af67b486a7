# jobguard webhook image: `docker build -t jobguard:0.1.0 .`
# Stage 1 builds wheels for jobguard and every dependency; stage 2 installs them offline into a
# slim image that runs as an unprivileged user with nothing writable but /tmp (mounted).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY jobguard ./jobguard
COPY policies ./policies
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[server]"

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 jobguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin jobguard
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "jobguard[server]==0.1.0" \
 && rm -rf /wheels
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["jobguard"]
# The files deploy/base mounts: the TLS Secret and the policy ConfigMap.
CMD ["serve", "--cert=/etc/jobguard/tls/tls.crt", "--key=/etc/jobguard/tls/tls.key", "--bind=0.0.0.0:8443", "--policy=/etc/jobguard/policy/default.yaml", "--kubernetes-version=auto"]
