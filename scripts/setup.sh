#!/usr/bin/env bash
# Installs everything btrfs-to-s3 and its tests need on a fresh Debian machine with
# Node 20, as root: Debian packages, the pinned pnpm, node modules; then builds.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(btrfs-progs ceph-mon ceph-osd radosgw ceph-common curl util-linux systemd attr time awscli jq)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The pnpm version pinned in package.json's packageManager field.
pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [[ $(pnpm --version 2>/dev/null || true) != "$pnpm_version" ]]; then
  echo "setup: installing pnpm $pnpm_version" >&2
  npm install -g --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile --reporter=silent
pnpm turbo run build
