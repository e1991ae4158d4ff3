# syntax=docker/dockerfile:1.7
# One build makes both halves of the shop: the hydration bundle (wasm32) and the server binary,
# so the bundle always matches the server's SSR. The runtime image holds only those two.
#
#   docker build -t starfront .
#   docker run -p 3000:3000 -e PORT=3000 -e BOT_TOKEN=... -e DATABASE_URL=postgres://... starfront

# ---------------------------------------------------------------- build
FROM rust:1.95-bookworm AS build
# Node only runs binaryen's wasm-opt (npm) during the build; rustup's wasm32 target is the route
# inside Docker (scripts/setup.sh also knows Debian's rustc-web route for machines without rustup's
# servers).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm brotli \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add wasm32-unknown-unknown
WORKDIR /src
COPY . .
# The caches keep crates and compiled dependencies between image builds; the results are copied
# out of the cached target/ in the same step, since a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    --mount=type=cache,target=/src/.tools \
    STARFRONT_WASM_ROUTE=rustup bash scripts/setup.sh \
 && bash scripts/build.sh --release \
 && mkdir -p /out \
 && cp target/release/starfront /out/starfront \
 && cp -r target/site /out/site

# ---------------------------------------------------------------- run
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin starfront \
 && mkdir -p /data && chown starfront:starfront /data
COPY --from=build /out/starfront /usr/local/bin/starfront
COPY --from=build /out/site /app/site
ENV LEPTOS_SITE_ROOT=/app/site \
    DATA_DIR=/data \
    PORT=3000
# Embedded defaults (SQLite, files) live in /data; with DATABASE_URL=postgres://... and S3
# storage the container keeps no state and any number of them can run behind a load balancer.
VOLUME /data
USER starfront
EXPOSE 3000
# The load balancer's health check: GET /healthz (200 once the database answers).
CMD ["/usr/local/bin/starfront"]
