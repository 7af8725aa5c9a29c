# syntax=docker/dockerfile:1
#
# kilo-gateway container image.
#   docker build -t kilo-gateway:0.1.0 .
#   docker save kilo-gateway:0.1.0 | sudo k3s ctr images import -
# See docs/deploy.md. .ci/check-deploy lints this file.

# ---- build: release binary with the Swift standard library linked in -------------
FROM swift:6.3-noble AS build

WORKDIR /build

# Resolve dependencies first so that a source change does not fetch them again.
COPY Package.* ./
RUN swift package resolve

COPY . .

# The release flags bench/run measures (link/release-flags: no runtime exclusivity checks, the
# request path's code laid out together). SWIFT_FLAGS adds more, after them; e.g.
# --build-arg SWIFT_FLAGS="-Xswiftc -enforce-exclusivity=checked" for the runtime checks.
ARG SWIFT_FLAGS=""
# Its own build cache: objects built with other flags are not always rebuilt (an -Xfrontend flag
# such as -function-sections does not invalidate them).
# hadolint ignore=SC2046,SC2086
RUN --mount=type=cache,target=/build/.build-release \
    swift build -c release --static-swift-stdlib --product kilo-gateway $(sh link/release-flags) ${SWIFT_FLAGS} \
        --scratch-path .build-release \
 && mkdir -p /staging \
 && cp "$(swift build -c release --scratch-path .build-release --show-bin-path)/kilo-gateway" /staging/ \
 && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/swift-backtrace

# ---- run: slim base, non-root, only the binary, the config and CA certificates ---
FROM ubuntu:24.04

# Same Ubuntu release as the build image, so the binary finds the glibc it linked.
# Versions are not pinned: the archive drops old ones and the build would break.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kilo \
 && useradd --system --uid 10001 --gid kilo --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin kilo

COPY --from=build /staging/kilo-gateway /usr/local/bin/kilo-gateway
COPY --from=build /staging/swift-backtrace /usr/libexec/kilo-gateway/swift-backtrace
# The default config is the cluster's one (listens on 0.0.0.0:8000); in Kubernetes
# the ConfigMap is mounted over /etc/kilo-gateway.
COPY deploy/k8s/base/gateway.yaml /etc/kilo-gateway/gateway.yaml

ENV KILO_GATEWAY_CONFIG=/etc/kilo-gateway/gateway.yaml \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/libexec/kilo-gateway/swift-backtrace

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

# 8000 plain HTTP; 8443 HTTPS once TLS is configured.
EXPOSE 8000 8443
STOPSIGNAL SIGTERM

# Runs `kilo-gateway serve --config /etc/kilo-gateway/gateway.yaml`; other
# subcommands work as `docker run IMAGE check-config /etc/kilo-gateway/gateway.yaml`.
ENTRYPOINT ["/usr/local/bin/kilo-gateway"]
CMD ["serve", "--config", "/etc/kilo-gateway/gateway.yaml"]
