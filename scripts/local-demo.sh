#!/usr/bin/env bash
# The main job end to end on a self-contained local setup: a loop-mounted Btrfs
# filesystem with sample data and a local Ceph RADOS Gateway, both torn down at exit.
# Make an age key, validate the config, full backup (compressed and encrypted), change
# data, incremental backup, status, then restore the chain into a new path with the key
# and verify it against the source snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 goes to /usr/local (setup.sh); make sure it comes first, whatever PATH this shell was given.
export PATH="/usr/local/bin:$PATH"
bash scripts/setup.sh
# shellcheck source=lib/local-env.sh
. scripts/lib/local-env.sh

local_env_setup btrfs-to-s3-demo
work=$LOCAL_ENV_DIR

echo "== loop Btrfs with a sample subvolume"
tools/testenv/bin/loop-btrfs.sh create "$work/btrfs" 2G
mnt=$work/btrfs/mnt
btrfs -q subvolume create "$mnt/data"
mkdir -p "$mnt/snapshots"
head -c 64M /dev/urandom >"$mnt/data/random.bin"
for i in $(seq 1 200); do echo "file $i" >"$mnt/data/small-$i.txt"; done

echo "== local S3 gateway"
local_env_start_gateway

echo "== btrfs-to-s3 key generate (the backup host needs only the printed recipient)"
recipient=$(apps/cli/bin/run.js key generate --output "$work/restore.key")

cat >"$work/config.toml" <<TOML
[global]
state_path = "$work/state.json"
lock_path = "$work/btrfs_to_s3.lock"
metrics_path = "$work/metrics.json"
spool_dir = "$work/spool"

[snapshots]
base_dir = "$mnt/snapshots"

[subvolumes]
paths = ["$mnt/data"]

[s3]
bucket = "$BTRFS_S3_TEST_BUCKET"
region = "$BTRFS_S3_TEST_REGION"
prefix = "demo"
endpoint = "$BTRFS_S3_TEST_ENDPOINT"
path_style = true
checksum_mode = "when_required"
chunk_size_bytes = 33554432
part_size_bytes = 8388608
compression = "zstd"

[encryption]
recipients = ["$recipient"]
TOML

cli() { apps/cli/bin/run.js "$@"; }
echo "== btrfs-to-s3 config validate"
cli config validate --config "$work/config.toml"
echo "== btrfs-to-s3 doctor (root, btrfs, paths, credentials, test writes, clock)"
cli doctor --config "$work/config.toml"
echo "== btrfs-to-s3 plan"
cli plan --config "$work/config.toml"
echo "== btrfs-to-s3 backup (full)"
cli backup --config "$work/config.toml"
echo "== change 5% of the data, then btrfs-to-s3 backup --once (incremental)"
head -c 3M /dev/urandom >"$mnt/data/new.bin"
for i in $(seq 1 10); do echo "changed $i" >>"$mnt/data/small-$i.txt"; done
cli backup --once --config "$work/config.toml"
echo "== btrfs-to-s3 status"
cli status --config "$work/config.toml"
echo "== btrfs-to-s3 restore (full + incremental, decrypted with the key, verified against the source snapshot)"
cli restore --config "$work/config.toml" --subvolume data --target "$mnt/restored" --identity-file "$work/restore.key"
echo "== done"
