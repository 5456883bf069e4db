# syntax=docker/dockerfile:1
#
# The strata sidecar image for Argo CD's repo-server: strata, a pinned helm and plugin.yaml,
# run by Argo CD's own argocd-cmp-server (see examples/argocd/).
#
#   docker build --platform linux/amd64 -t ghcr.io/example/strata:0.1.0 .
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

# --- strata ------------------------------------------------------------------------------
# bookworm, like the runtime image below, so the binary links against the same glibc (2.36).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# --locked: build exactly the dependency versions the tests ran with.
RUN cargo build --release --locked \
 && install -D -m 0755 target/release/strata /out/strata

# --- helm --------------------------------------------------------------------------------
FROM buildpack-deps:bookworm-curl AS helm
ARG TARGETARCH
ARG HELM_VERSION=3.17.3
# Why the binary and not the tarball: helm publishes a sha256 for each release tarball, but the
# pinned value here is the one scripts/install-helm checks for helm 3.17.3 linux-amd64, i.e.
# the exact binary strata's tests run against. Verifying the extracted binary against it ties
# the image to the tested helm; if the download ever differs from that binary, the build fails.
ARG HELM_SHA256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
SHELL ["/bin/bash", "-o", "pipefail", "-euc"]
WORKDIR /helm
RUN if [ -n "${TARGETARCH}" ] && [ "${TARGETARCH}" != amd64 ]; then \
      echo "the pinned helm is linux/amd64; build with --platform linux/amd64 (target is ${TARGETARCH})" >&2; \
      exit 1; \
    fi \
 && curl -fsSL --proto '=https' --tlsv1.2 -o helm.tar.gz \
      "https://get.helm.sh/helm-v${HELM_VERSION}-linux-amd64.tar.gz" \
 && tar -xzf helm.tar.gz linux-amd64/helm \
 && echo "${HELM_SHA256}  linux-amd64/helm" | sha256sum -c - \
 && install -D -m 0755 linux-amd64/helm /out/helm \
 && /out/helm version --short | grep -q "^v${HELM_VERSION}+"
# Directories uid 999 must write to: HOME (helm's config and cache) and strata's chart cache.
# The runtime image has no shell to create them, so they are made here.
RUN mkdir -p /rootfs/home/argocd/cmp-server/config /rootfs/var/cache/strata

# --- runtime -----------------------------------------------------------------------------
# distroless/cc: glibc and libgcc for strata, CA certificates for helm and strata's chart
# downloads, and no shell. None is needed: plugin.yaml runs `strata` directly (argocd-cmp-server
# execs commands without a shell), and argocd-cmp-server itself is a static Go binary.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=helm --chown=999:999 /rootfs/home/ /home/
COPY --from=helm --chown=999:999 /rootfs/var/cache/ /var/cache/
COPY --from=build /out/strata /usr/local/bin/strata
COPY --from=helm /out/helm /usr/local/bin/helm
# argocd-cmp-server reads its configuration from here at start; baked in, so no ConfigMap.
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
ENV STRATA_CACHE_DIR=/var/cache/strata HOME=/home/argocd STRATA_HELM=/usr/local/bin/helm
# Charts fetched once serve every later render; mount an emptyDir here in the Pod.
VOLUME /var/cache/strata
# The repo-server's uid: it must be able to connect to the socket argocd-cmp-server creates.
USER 999:999
# Not part of this image: the repo-server's copyutil init container copies Argo CD's binary
# into the shared var-files volume, mounted at /var/run/argocd.
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
