# syntax=docker/dockerfile:1
# crm-segments: a release build in the Rust image, run from a slim Debian as a non-root user.
# Build: docker build -t crm-segments .   Run: see docker-compose.yml and the README.

FROM rust:1.95-slim-bookworm AS build
# pq-sys and native-tls link the system OpenSSL; SQLite and libpq are built from source.
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit), the binary leaves them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin crm-segments \
    && cp target/release/crm-segments /usr/local/bin/crm-segments

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home crm
COPY --from=build /usr/local/bin/crm-segments /usr/local/bin/crm-segments
# /data holds the SQLite file when no DATABASE_URL names PostgreSQL.
WORKDIR /data
USER 10001
ENV BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM lets requests in flight finish (SHUTDOWN_GRACE_SECS); docker stop waits 10 s by default.
STOPSIGNAL SIGTERM
ENTRYPOINT ["crm-segments"]
CMD ["serve"]
