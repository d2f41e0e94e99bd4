# shellcheck shell=bash
# A self-contained local environment for scripts/local-demo.sh and bench/run.sh: one work
# directory holding a loop Btrfs (DIR/btrfs) and a local gateway (DIR/rgw), both torn
# down when the script exits, also on failure, Ctrl-C or SIGTERM. Source it, then:
#
#   local_env_setup NAME        make LOCAL_ENV_DIR=/tmp/NAME.XXXXXX and install the traps
#   local_env_start_gateway     start the gateway in LOCAL_ENV_DIR/rgw and export its env
#                               (BTRFS_S3_TEST_ENDPOINT, _REGION, _BUCKET, AWS keys)
#   local_env_cleanup           stop the gateway (by its own PID files), destroy the loop
#                               Btrfs, remove the directory; safe to call more than once
LOCAL_ENV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL_ENV_DIR=

local_env_setup() {
  LOCAL_ENV_DIR=$(mktemp -d "/tmp/$1.XXXXXX")
  trap local_env_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

local_env_start_gateway() {
  "$LOCAL_ENV_ROOT/tools/testenv/bin/rgw.sh" start "$LOCAL_ENV_DIR/rgw"
  set -a
  # shellcheck disable=SC1091
  . "$LOCAL_ENV_DIR/rgw/env"
  set +a
}

local_env_cleanup() {
  [[ -n $LOCAL_ENV_DIR ]] || return 0
  "$LOCAL_ENV_ROOT/tools/testenv/bin/rgw.sh" stop "$LOCAL_ENV_DIR/rgw" || true
  "$LOCAL_ENV_ROOT/tools/testenv/bin/loop-btrfs.sh" destroy "$LOCAL_ENV_DIR/btrfs" || true
  rm -rf "$LOCAL_ENV_DIR"
  LOCAL_ENV_DIR=
}
