#!/usr/bin/env bash
# Installs what the tests need and runs every test: lint, typecheck, unit tests and
# the integration tests on a real loop-mounted Btrfs and a real local Ceph gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 goes to /usr/local (setup.sh); make sure it comes first, whatever PATH this shell was given.
export PATH="/usr/local/bin:$PATH"
bash scripts/setup.sh

# One gateway for the whole run; jest's global setup (tools/testenv) finds it
# through these variables instead of starting its own.
gateway_dir=$(mktemp -d /tmp/btrfs-to-s3-rgw.XXXXXX)
trap 'tools/testenv/bin/rgw.sh stop "$gateway_dir"' EXIT
tools/testenv/bin/rgw.sh start "$gateway_dir"
set -a
# shellcheck disable=SC1091
. "$gateway_dir/env"
set +a

export TURBO_TELEMETRY_DISABLED=1
status=0
pnpm turbo run lint typecheck test --continue || status=$?
# One format, settled by Prettier (.prettierrc.json); `pnpm format` rewrites.
pnpm exec prettier --check --log-level warn "**/*.{ts,js}" || status=1
# The public API of each package is recorded; an unintended change fails here.
bash scripts/api.sh check || status=1
exit "$status"
