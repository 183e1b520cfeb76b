#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the demo and the tests: bun (from npm),
# the real S3 clients the end-to-end suites drive, headless Chromium (the status-page test),
# redis-server (the suites start their own on a loopback port for the shared cache tier),
# and the project's packages. Idempotent: one line per step that installs something, and
# nothing at all when everything is there. A failing step shows its output.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Run a command without its chatter; show the chatter only if it fails.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: failed: $*" >&2
    exit 1
  fi
}
# step "what and why" command...: one line, then the command, quietly.
step() {
  echo "setup: $1"
  shift
  quietly "$@"
}

if ! command -v bun >/dev/null 2>&1; then
  step "installing bun from npm (runs the proxy, the demo and the tests)" npm install -g bun
fi

DEBIAN_PACKAGES=(awscli python3-boto3 s3cmd chromium openssl curl redis-server)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  step "apt-get update (Debian's package lists, for the next step)" apt-get update -qq
  step "installing ${missing[*]} from Debian (aws cli, boto3 and s3cmd: real clients the end-to-end tests drive; chromium: the status page test; redis-server: the shared cache tier's tests; curl, openssl: TLS and presigned-URL tests)" \
    apt-get install -y -qq "${missing[@]}"
fi

# node_modules older than the manifest or the lockfile (or absent) means packages to install;
# otherwise bun install only checks, quietly.
if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ bun.lock -nt node_modules ]; then
  step "installing the project's packages (bun install --frozen-lockfile: s3rver, nodejs-polars, the AWS SDK, ...)" bun install --frozen-lockfile
  touch node_modules # an install that changed nothing leaves its date alone
else
  quietly bun install --frozen-lockfile
fi
