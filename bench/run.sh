#!/usr/bin/env bash
# pnpm bench: btrfs-to-s3 against `btrfs send | aws s3 cp -` and `btrfs send | rclone rcat`
# (and the restores, an incremental, a scaling check) on a loop Btrfs and a dedicated local
# gateway; writes docs/benchmark.md, docs/benchmark-throughput.svg and
# bench/results/latest.json. Exit 1 when a target of issue 8 fails (the page is written anyway).
#
#   pnpm bench [-- --size 2G --rounds 3]    the benchmark (as root; 20-25 min at the defaults on 2 cores)
#   pnpm bench -- --report-only             render the page again from bench/results/latest.json
#   pnpm bench -- --startup-only [--executable FILE]
#                                           only the fixed cost of a run (exec to first S3 request), in
#                                           about a minute: the release's launcher if one is built, else
#                                           apps/cli/bin/run.js, or FILE (another release, to compare)
set -euo pipefail
cd "$(dirname "$0")/.."

report_only=0
for arg in "$@"; do [[ $arg == --report-only ]] && report_only=1; done

apt_install() {
  echo "bench: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

if ((report_only == 0)); then
  # Debian's awscli (v2, /usr/bin/aws; a pip-installed v1 may come first on PATH), rclone,
  # GNU time for peak RSS and CPU; the gateway's packages are rgw.sh's business.
  missing=()
  [[ -x /usr/bin/aws ]] || missing+=(awscli)
  [[ -x /usr/bin/rclone ]] || missing+=(rclone)
  [[ -x /usr/bin/time ]] || missing+=(time)
  command -v btrfs >/dev/null || missing+=(btrfs-progs)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
fi

# Node modules and pnpm come from setup.sh; then build the CLI (and what it needs) and this package.
[[ -d node_modules/.pnpm ]] && command -v pnpm >/dev/null || bash scripts/setup.sh
TURBO_TELEMETRY_DISABLED=1 pnpm turbo run build --filter=btrfs-to-s3... --filter=@org/bench --output-logs=errors-only >&2

if ((report_only == 1)); then
  exec node bench/dist/run.js "$@"
fi

# shellcheck source=../scripts/lib/local-env.sh
. scripts/lib/local-env.sh
local_env_setup btrfs-to-s3-bench
# The benchmark runs in the background so a signal reaches this trap at once; the trap
# stops it (it stops its own commands and cleans up), then removes what is left.
bench_pid=
stop_bench() {
  if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  local_env_cleanup
}
trap stop_bench EXIT
node bench/dist/run.js --work "$LOCAL_ENV_DIR" "$@" &
bench_pid=$!
wait "$bench_pid"
