# switchyard and its demo upstream in one small image.
#   docker build -t switchyard .
#   docker run --rm -v $PWD/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro switchyard
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The profile-guided build of benches/pgo.sh, trained on switchyard's own demo
# upstream and load generator (TRAIN_WITH=own): it spends about 45% less user
# CPU per proxied request than a plain release build (BENCHMARKS.md) and takes
# about three times as long to build. --build-arg PGO=0 builds plain.
ARG PGO=1
RUN if [ "$PGO" = 1 ]; then \
        TRAIN_WITH=own benches/pgo.sh && cp target/pgo/switchyard target/switchyard; \
    else \
        cargo build --release -p switchyard -p switchyard-loadtest --bins \
        && cp target/release/switchyard target/switchyard; \
    fi \
 && install -D -m 0755 target/switchyard /out/switchyard \
 && install -D -m 0755 target/release/switchyard-echo /out/switchyard-echo

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates socat curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
# Same place the official haproxy image reads its config from, so compose files
# written for `haproxy:2.6` only need the image name changed.
WORKDIR /usr/local/etc/haproxy
STOPSIGNAL SIGUSR1
CMD ["switchyard", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
