#!/usr/bin/env bash
# A real Btrfs filesystem on a loop device, for tests and the local demo.
#
#   loop-btrfs.sh install            install btrfs-progs if missing
#   loop-btrfs.sh create DIR [SIZE]  make DIR/image (default 1G), mount it at DIR/mnt
#   loop-btrfs.sh destroy DIR        unmount, detach the loop device, remove DIR
#
# destroy is safe to call on a half-created DIR, and more than once.
set -euo pipefail

die() { echo "loop-btrfs.sh: $*" >&2; exit 1; }

install_packages() {
  if ! command -v mkfs.btrfs >/dev/null || ! command -v btrfs >/dev/null; then
    echo "loop-btrfs.sh: installing btrfs-progs" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q btrfs-progs >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q btrfs-progs >/dev/null; }
  fi
}

create() {
  local dir=$1 size=${2:-1G}
  install_packages
  mkdir -p "$dir/mnt"
  truncate -s "$size" "$dir/image"
  mkfs.btrfs -q -f "$dir/image" >/dev/null
  mount -o loop "$dir/image" "$dir/mnt" || { destroy "$dir"; die "could not mount $dir/image"; }
}

destroy() {
  local dir=$1 dev
  [[ -d $dir ]] || return 0
  if mountpoint -q "$dir/mnt"; then
    dev=$(findmnt -n -o SOURCE --target "$dir/mnt")
    umount "$dir/mnt" || umount -l "$dir/mnt"
    # mount -o loop detaches on umount (autoclear); detach explicitly if it did not.
    [[ $dev == /dev/loop* ]] && losetup "$dev" >/dev/null 2>&1 && losetup -d "$dev" 2>/dev/null || true
  fi
  # A loop device still bound to our image (e.g. mount failed after attach).
  if [[ -f $dir/image ]]; then
    losetup -j "$dir/image" -O NAME -n 2>/dev/null | while read -r dev; do losetup -d "$dev" || true; done
  fi
  rm -rf "$dir"
}

case ${1:-} in
  install) install_packages ;;
  create) [[ $# -ge 2 ]] || die "usage: loop-btrfs.sh create DIR [SIZE]"; create "$2" "${3:-}" ;;
  destroy) [[ $# -eq 2 ]] || die "usage: loop-btrfs.sh destroy DIR"; destroy "$2" ;;
  *) die "usage: loop-btrfs.sh install | create DIR [SIZE] | destroy DIR" ;;
esac
