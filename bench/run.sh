#!/usr/bin/env bash
# pnpm bench: btrfs-to-s3 against `btrfs send | aws s3 cp -` and `btrfs send | rclone rcat`
# (and the restores, incrementals, a scaling check) at two dataset sizes on a loop Btrfs and a
# dedicated local gateway; the client behind rate-limited links (a network namespace of its
# own); the upload rate cap against rclone's and restic's. Writes docs/benchmark.md,
# docs/benchmark-throughput.svg and bench/results/latest.json. Exit 1 when a target of
# issue 19 (or 8, 17) fails (the page is written anyway).
#
#   pnpm bench [-- --sizes 768M,2G --rounds 3]
#                                           the benchmark (as root; about 40 min at the defaults on 2 cores)
#   pnpm bench -- --link-only | --cap-only  only the rate-limited runs, or the rate cap (6-10 min each); prints them
#   pnpm bench -- --help                    every option
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
  # restic (the rate cap's anchor), GNU time for peak RSS and CPU, iproute2 for the link;
  # the gateway's packages are rgw.sh's business.
  missing=()
  [[ -x /usr/bin/aws ]] || missing+=(awscli)
  [[ -x /usr/bin/rclone ]] || missing+=(rclone)
  [[ -x /usr/bin/restic ]] || missing+=(restic)
  command -v tc >/dev/null || missing+=(iproute2)
  [[ -x /usr/bin/time ]] || missing+=(time)
  command -v btrfs >/dev/null || missing+=(btrfs-progs)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
fi

# Node modules and pnpm come from setup.sh; then build the CLI (and what it needs) and this package.
[[ -d node_modules/.pnpm ]] && command -v pnpm >/dev/null || bash scripts/setup.sh
TURBO_TELEMETRY_DISABLED=1 pnpm turbo run build --filter=btrfs-to-s3... --filter=@org/bench --output-logs=errors-only >&2
# Ours runs as a user runs it: the release's launcher (its own Node, the bundled CLI), from
# the packages just built; never a stale one from an earlier build (about 40 s).
if ((report_only == 0)); then
  echo "bench: building the release (scripts/release.sh --no-build)" >&2
  bash scripts/release.sh --no-build >&2
fi

if ((report_only == 1)); then
  exec node bench/dist/run.js "$@"
fi

# shellcheck source=../scripts/lib/local-env.sh
. scripts/lib/local-env.sh
local_env_setup btrfs-to-s3-bench
# The benchmark runs in the background so a signal reaches this trap at once; the trap
# stops it (it stops its own commands and cleans up), then removes what is left (the
# client's network namespace too, before the directory that names it goes).
bench_pid=
stop_bench() {
  if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  [[ -z $LOCAL_ENV_DIR ]] || tools/testenv/bin/netns-link.sh destroy "$LOCAL_ENV_DIR/link" || true
  local_env_cleanup
}
trap stop_bench EXIT
node bench/dist/run.js --work "$LOCAL_ENV_DIR" "$@" &
bench_pid=$!
wait "$bench_pid"
