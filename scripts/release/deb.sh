#!/usr/bin/env bash
# Packs a staged release tree into a .deb: the tree in /opt/btrfs-to-s3, the command
# as /usr/bin/btrfs-to-s3, and the programs it calls as dependencies.
# Usage: deb.sh <stage directory> <version> <output directory>
set -euo pipefail
stage=$1 version=$2 out=$3
root="$out/deb-root"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/doc/btrfs-to-s3"
cp -a "$stage" "$root/opt/btrfs-to-s3"
ln -s /opt/btrfs-to-s3/bin/btrfs-to-s3 "$root/usr/bin/btrfs-to-s3"
ln -s /opt/btrfs-to-s3/share/doc/README.md "$root/usr/share/doc/btrfs-to-s3/README.md"
installed_kib=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
# The programs it runs: btrfs (btrfs-progs: snapshot, send, receive) and getfattr (attr:
# the restore's tree check); systemctl for the timer, recommended: a host may run it by hand.
cat > "$root/DEBIAN/control" <<CONTROL
Package: btrfs-to-s3
Version: $version
Architecture: amd64
Maintainer: btrfs-to-s3 developers <btrfs-to-s3@localhost>
Installed-Size: $installed_kib
Depends: btrfs-progs, attr
Recommends: systemd
Section: admin
Priority: optional
Description: Btrfs snapshots to Amazon S3, restored verified
 Snapshots Btrfs subvolumes, streams btrfs send into chunked multipart uploads on
 S3 (Glacier Deep Archive by default), publishes manifests atomically and restores
 them, verified, into a new subvolume. Carries its own Node.js runtime.
CONTROL
deb="$out/btrfs-to-s3_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root"
echo "release: $deb" >&2
