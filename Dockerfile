# syntax=docker/dockerfile:1
# s3proxy container image: the release binary on a minimal glibc base.
#
# The build context is dist/docker, made by `bun run release` (one binary per architecture),
# so nothing from the source tree (node_modules, .env) reaches the image:
#   bun run release
#   docker buildx build --platform linux/amd64,linux/arm64 -f Dockerfile -t s3proxy:<version> dist/docker
#   docker run --rm -p 3000:3000 -e ENDPOINT=https://s3.eu-west-1.amazonaws.com -e AWS_REGION=eu-west-1 \
#     -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY s3proxy:<version>
#
# distroless/cc: glibc and libgcc, which the Bun runtime links against, and nothing else
# (no shell, no package manager). The :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot

# Set by BuildKit for each --platform: amd64 or arm64.
ARG TARGETARCH
COPY ${TARGETARCH}/s3proxy /usr/bin/s3proxy

USER 65532:65532
# Every option is also an environment variable (see `s3proxy --help`); listen on all
# interfaces of the container, port 3000.
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000

# The image has no shell or HTTP client, so the binary probes itself: `s3proxy healthcheck`
# asks /_s3proxy/health/ready (on METRICS_PORT when set, else PORT) and exits 0 or 1. Ready
# means the backend answers and credentials load; /_s3proxy/health/live is the liveness path
# for orchestrators that probe over HTTP themselves (deploy/kubernetes/).
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 CMD ["/usr/bin/s3proxy", "healthcheck"]

ENTRYPOINT ["/usr/bin/s3proxy"]
