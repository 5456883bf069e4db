# syntax=docker/dockerfile:1
#
# The strata sidecar image for Argo CD's repo-server: strata, a pinned helm and plugin.yaml,
# run by Argo CD's own argocd-cmp-server (see examples/argocd/).
#
#   docker build --platform linux/amd64 -t ghcr.io/example/strata:0.1.0 .
#
# The runtime stage is `FROM scratch` plus the root filesystem that scripts/image-rootfs
# assembles; scripts/build-image runs the same script offline and reads the image settings
# (ENV, USER, ENTRYPOINT, VOLUME) from the last stage of this file, so both builds produce the
# same image contents.
#
# Build arguments:
#   HELM_VERSION  The helm release installed as /usr/local/bin/helm. Default 3.17.3, the
#                 version strata's test suite runs against.
#   HELM_SHA256   The sha256 of that release's linux-amd64 `helm` binary (the file inside the
#                 tarball, not the tarball itself). The build fails when the downloaded binary
#                 does not match, so change it together with HELM_VERSION.
#
# linux/amd64 only: HELM_SHA256 names one binary, and the build stops on any other target
# architecture rather than ship a helm for the wrong machine.

# --- build -------------------------------------------------------------------------------
# Fully qualified and pinned by digest: short names are refused by buildah/podman, and a tag
# can move.
FROM docker.io/library/rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS build
ARG TARGETARCH
ARG HELM_VERSION=3.17.3
# Why the binary and not the tarball: helm publishes a sha256 for each release tarball, but the
# pinned value here is the one scripts/install-helm checks for helm 3.17.3 linux-amd64, i.e.
# the exact binary strata's tests run against.
ARG HELM_SHA256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
SHELL ["/bin/bash", "-o", "pipefail", "-euc"]
RUN if [ -n "${TARGETARCH}" ] && [ "${TARGETARCH}" != amd64 ]; then \
      echo "the pinned helm is linux/amd64; build with --platform linux/amd64 (target is ${TARGETARCH})" >&2; \
      exit 1; \
    fi
WORKDIR /helm
RUN curl -fsSL --proto '=https' --tlsv1.2 -o helm.tar.gz \
      "https://get.helm.sh/helm-v${HELM_VERSION}-linux-amd64.tar.gz" \
 && tar -xzf helm.tar.gz linux-amd64/helm \
 && echo "${HELM_SHA256}  linux-amd64/helm" | sha256sum -c - \
 && linux-amd64/helm version --short | grep -q "^v${HELM_VERSION}+"
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Statically linked, so the image needs no libc; --target keeps build scripts and proc
# macros dynamic. --locked: exactly the dependency versions the tests ran with.
RUN RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target x86_64-unknown-linux-gnu
COPY plugin.yaml ./
COPY scripts/image-rootfs ./scripts/
RUN scripts/image-rootfs /rootfs target/x86_64-unknown-linux-gnu/release/strata \
      /helm/linux-amd64/helm /etc/ssl/certs/ca-certificates.crt plugin.yaml

# --- runtime -----------------------------------------------------------------------------
# No shell and no libc: plugin.yaml runs `strata` directly (argocd-cmp-server execs commands
# without a shell), strata and helm are static, and argocd-cmp-server is a static Go binary.
FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin HOME=/home/argocd STRATA_CACHE_DIR=/var/cache/strata STRATA_HELM=/usr/local/bin/helm
# Charts fetched once serve every later render; mount an emptyDir here in the Pod.
VOLUME /var/cache/strata
# The repo-server's uid: it must be able to connect to the socket argocd-cmp-server creates.
USER 999:999
# Not part of this image: the repo-server's copyutil init container copies Argo CD's binary
# into the shared var-files volume, mounted at /var/run/argocd.
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
