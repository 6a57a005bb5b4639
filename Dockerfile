# syntax=docker/dockerfile:1
# The exporter as one Bun binary on distroless. `make image` builds it for this
# machine; `docker buildx build --platform linux/amd64,linux/arm64 .` for both.

# Exactly package.json's devDependencies.bun: the binary embeds this runtime, so the
# image runs what `make build` and the tests ran.
ARG BUN_VERSION=1.4.5

# The build stage runs on the builder's own platform and cross-compiles with
# --target, so an arm64 image needs no emulation (see the RUN below).
FROM --platform=$BUILDPLATFORM oven/bun:${BUN_VERSION} AS build
WORKDIR /src
# The lockfile is npm's package-lock.json (the Makefile runs `npm ci`); oven/bun has
# no npm, and a Node stage only to install one pure-JS package is not worth it:
# bun install reads package-lock.json (migrating it in memory, writing nothing), and
# with --frozen-lockfile fails when package.json disagrees with it, as npm ci would
# (tried with bun 1.4.5: "lockfile had changes, but lockfile is frozen").
# --production skips the devDependencies (bun and deno themselves, some 200 MB the
# bundle never imports); --ignore-scripts as no runtime dependency has install scripts.
# Dependencies go first so that a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production --ignore-scripts
COPY . .
# `make build`'s command: the flags from build.flags (one list for both), the same
# --define of version and revision, plus the target. deploy/manifests_test.ts runs
# this RUN and `make build` with a stand-in bun and fails if their flags differ.
# Docker's architecture names to Bun's targets. When the target is the builder's own
# platform Bun uses itself; another one is downloaded from the npm registry
# (@oven/bun-linux-<arch>, ~48 MB). bun-linux-x64 is Bun's default x64 build, which
# wants a CPU with AVX2 (Haswell, 2013, or newer); bun-linux-x64-baseline is for older.
ARG TARGETARCH
ARG VERSION=0.1.0
ARG REVISION=unknown
RUN case "$TARGETARCH" in \
      amd64) arch=x64 ;; \
      arm64) arch=arm64 ;; \
      *) echo "unsupported TARGETARCH=$TARGETARCH: want amd64 or arm64" >&2; exit 1 ;; \
    esac \
 && bun build $(grep -e '^--' build.flags) \
      --define BUILD_VERSION="\"$VERSION\"" --define BUILD_REVISION="\"$REVISION\"" \
      --target="bun-linux-$arch" main.ts --outfile /out/exporter

# Bun's binaries are dynamically linked against glibc (libc, libm, libpthread, libdl
# and the loader, per ldd), and Bun has no static build (its -musl targets need
# Alpine's /lib/ld-musl-*.so.1): scratch and distroless/static have no libc or
# loader, so the kernel could not even start the binary there. cc is
# distroless/base (glibc, CA certificates, tzdata, /etc/passwd with nonroot) plus
# libgcc_s, which glibc loads by dlopen (invisible to ldd) to unwind a thread on
# pthread_exit or cancellation. Debian 12's glibc is 2.36; the binary needs 2.17
# (deploy/test_image.sh checks). Pin by digest where you build release images.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED
LABEL org.opencontainers.image.title="exporter" \
      org.opencontainers.image.description="The Prometheus client_golang tutorial exporter in TypeScript, compiled with Bun" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=build --chmod=0755 /out/exporter /exporter
# nonroot's uid and gid in distroless, numeric so that Kubernetes' runAsNonRoot can
# verify it without reading /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/exporter"]
# For docker and podman (`--format docker`: OCI images drop HEALTHCHECK); Kubernetes
# ignores it and uses the Deployment's probes. Docker runs it inside the container with
# the container's environment but not its arguments, and --healthcheck asks the first
# --web.listen-address it can see: the default :8080 or EXPORTER_WEB_LISTEN_ADDRESS
# work, an address given as an argument does not yet (deploy/test_image.sh runs all
# three; see deploy/README.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/exporter", "--healthcheck"]
