#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the demo and the tests: bun (from npm),
# the real S3 clients the end-to-end suites drive, headless Chromium (the status-page test),
# redis-server (the suites start their own on a loopback port for the shared cache tier),
# and the project's packages. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bun >/dev/null 2>&1; then
  npm install -g bun >/dev/null 2>&1
fi

DEBIAN_PACKAGES=(awscli python3-boto3 s3cmd chromium openssl curl redis-server)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bun install --frozen-lockfile >/dev/null
