# syntax=docker/dockerfile:1.7
#
# One image per service, built from the whole workspace:
#   docker build --build-arg SERVICE=complaint-service -t complaint-suite/complaint-service .
# SERVICE is one of complaint-service, notification-service, audit-service, event-store-service
# (compose/docker-compose.yml builds all four). Migrations are compiled into the binary
# (sqlx::migrate!) and applied by the service itself at start, so the image needs no SQL files.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---- build: release binary of the selected service ---------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=<service name>" >&2; exit 1)
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit), so a code change rebuilds
# only the workspace crates. --locked: the image is built from exactly Cargo.lock.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin "$SERVICE" \
 && install -D -m 0755 "target/release/$SERVICE" /out/service

# ---- runtime: slim Debian, no toolchain, non-root ------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG SERVICE
# ca-certificates for TLS to managed brokers/databases; curl for the container health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
# Everything a service needs at run time is in its binary: migrations (sqlx::migrate!),
# notification templates and the agent directory seed (include_str!).
COPY --from=build /out/service /app/service
USER 10001:10001
ENV SERVICE_NAME=${SERVICE} \
    LOG_LEVEL=info
LABEL org.opencontainers.image.title="${SERVICE}" \
      org.opencontainers.image.source="complaint-suite"
# PORT is set per service in compose (3005-3008); /health answers as soon as the process serves.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
    CMD curl -fsS "http://127.0.0.1:${PORT:-8080}/health" >/dev/null || exit 1
ENTRYPOINT ["/app/service"]
