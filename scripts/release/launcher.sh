#!/bin/sh
# btrfs-to-s3: runs the bundled CLI on the release's own Node (no Node needed on the
# host) with the settings the memory bound relies on (docs/upload.md, "Measured memory"):
# --max-semi-space-size=1 keeps the young generation small, and a fixed malloc mmap and
# trim threshold of 128 KiB keeps glibc from raising them after the first large free and
# then holding freed memory (about 6 MiB of a full backup's peak; a value the caller set
# wins). Follows symlinks such as /usr/bin/btrfs-to-s3.
set -e
self=$(readlink -f -- "$0")
root=${self%/bin/*}
# The path it was started by (e.g. /usr/local/bin/btrfs-to-s3): `systemd install` renders
# that, not the versioned directory behind it, so the timer survives an upgrade.
export BTRFS_TO_S3_INVOKED_AS="$0"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"
exec "$root/node/bin/node" --max-semi-space-size=1 "$root/lib/main.js" "$@"
