#!/bin/sh
# btrfs-to-s3: runs the bundled CLI on the release's own Node (no Node needed on the
# host) with the flags the memory bound relies on: --max-semi-space-size=1 keeps the
# young generation small, which keeps a backup's peak RSS within the bound
# (docs/upload.md, "Measured memory"). Follows symlinks such as /usr/bin/btrfs-to-s3.
set -e
self=$(readlink -f -- "$0")
root=${self%/bin/*}
# The path it was started by (e.g. /usr/local/bin/btrfs-to-s3): `systemd install` renders
# that, not the versioned directory behind it, so the timer survives an upgrade.
export BTRFS_TO_S3_INVOKED_AS="$0"
exec "$root/node/bin/node" --max-semi-space-size=1 "$root/lib/main.js" "$@"
