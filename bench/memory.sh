#!/usr/bin/env bash
# Peak RSS of a full backup with 4 parts of 16 MiB in flight, against the bound
# concurrency x part size + 100 MiB (issue: backup end to end). Real Btrfs, real gateway.
#   bash bench/memory.sh [DATA_MIB] [RUNS]     (defaults: 512 MiB, 3 runs; prints the median)
set -euo pipefail
cd "$(dirname "$0")/.."
data_mib=${1:-512}
runs=${2:-3}
part=$((16 * 1024 * 1024))
concurrency=4
bound_kib=$(((concurrency * part + 100 * 1024 * 1024) / 1024))

work=$(mktemp -d /tmp/btrfs-to-s3-bench.XXXXXX)
cleanup() {
  tools/testenv/bin/rgw.sh stop "$work/rgw" || true
  tools/testenv/bin/loop-btrfs.sh destroy "$work/btrfs" || true
  rm -rf "$work"
}
trap cleanup EXIT

tools/testenv/bin/loop-btrfs.sh create "$work/btrfs" "$((data_mib * 2 + 512))M"
mnt=$work/btrfs/mnt
btrfs -q subvolume create "$mnt/data"
for i in $(seq 1 $((data_mib / 64))); do head -c 64M /dev/urandom >"$mnt/data/f$i"; done
RGW_MEMSTORE_BYTES=$(((data_mib * runs + 1024) * 1024 * 1024)) tools/testenv/bin/rgw.sh start "$work/rgw"
set -a
# shellcheck disable=SC1091
. "$work/rgw/env"
set +a

cat >"$work/config.toml" <<TOML
[global]
state_path = "$work/state.json"
lock_path = "$work/run.lock"
metrics_path = "$work/metrics.json"
[snapshots]
base_dir = "$mnt/snapshots"
retain = 1
[subvolumes]
paths = ["$mnt/data"]
[s3]
bucket = "$BTRFS_S3_TEST_BUCKET"
region = "$BTRFS_S3_TEST_REGION"
prefix = "bench"
endpoint = "$BTRFS_S3_TEST_ENDPOINT"
path_style = true
checksum_mode = "when_required"
part_size_bytes = $part
chunk_size_bytes = $((8 * part))
concurrency = $concurrency
TOML

rss=()
for run in $(seq 1 "$runs"); do
  /usr/bin/time -v -o "$work/time.txt" apps/cli/bin/run.js backup --full --config "$work/config.toml" >/dev/null 2>"$work/stderr.txt" ||
    { cat "$work/stderr.txt" >&2; exit 1; }
  kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  echo "run $run: peak RSS ${kib} KiB, wall ${wall}"
  rss+=("$kib")
done
median=$(printf '%s\n' "${rss[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
echo "median peak RSS: $((median / 1024)) MiB; bound (4 x 16 MiB + 100 MiB): $((bound_kib / 1024)) MiB"
((median <= bound_kib)) || { echo "OVER the bound" >&2; exit 1; }
