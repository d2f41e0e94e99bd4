#!/usr/bin/env bash
# A client "host" behind a link of a given rate: a network namespace of its own, joined to
# this one by a veth pair. Only the client's end is shaped (tbf on its egress: the uplink),
# so a gateway here in the root namespace keeps its own traffic (radosgw to the OSD, on lo)
# unshaped. Everything it makes is named in DIR/env and removed by `destroy DIR`.
#
#   netns-link.sh create DIR          make the namespace and the pair; writes DIR/env:
#                                     LINK_NETNS (path for nsenter --net=), LINK_HOST_IF,
#                                     LINK_CLIENT_IF, LINK_HOST_ADDR, LINK_CLIENT_ADDR
#   netns-link.sh shape DIR BITS      tbf on the client's end at BITS bits per second; 0 removes it
#   netns-link.sh exec DIR CMD...     run CMD with the client's network (files, mounts, processes as here)
#   netns-link.sh destroy DIR         remove the pair and the namespace, then DIR; safe to repeat
#
# netem is not available on these machines: latency needs a userspace proxy (bench/src/relay.ts).
set -euo pipefail

die() { echo "netns-link.sh: $*" >&2; exit 1; }

load() {
  [[ -f $1/env ]] || die "no link in $1 (no $1/env)"
  # shellcheck disable=SC1091
  . "$1/env"
}

# A /30 in 10.213.0.0/16 that no interface here uses yet, so two links (two benchmarks) can coexist.
free_subnet() {
  local used third fourth
  used=$(ip -4 -o addr show | awk '{print $4}')
  for _ in $(seq 1 64); do
    third=$((RANDOM % 256))
    fourth=$(((RANDOM % 64) * 4))
    grep -q "^10\.213\.$third\.\(${fourth}\|$((fourth + 1))\|$((fourth + 2))\)/" <<<"$used" && continue
    echo "10.213.$third.$fourth"
    return 0
  done
  die "no free /30 in 10.213.0.0/16"
}

create() {
  local dir=$1 id net base name host client
  [[ -e $dir/env ]] && die "a link already exists in $dir"
  for bin in ip tc nsenter; do command -v "$bin" >/dev/null || die "$bin is missing (iproute2, util-linux)"; done
  mkdir -p "$dir"
  id=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
  name=b2s3-$id
  host=b2s3${id}h
  client=b2s3${id}c
  net=$(free_subnet)
  base=${net%.*}
  local last=${net##*.}
  # Written first, so a create that fails halfway is undone by destroy.
  cat >"$dir/env" <<ENV
LINK_NETNS=/run/netns/$name
LINK_NETNS_NAME=$name
LINK_HOST_IF=$host
LINK_CLIENT_IF=$client
LINK_HOST_ADDR=$base.$((last + 1))
LINK_CLIENT_ADDR=$base.$((last + 2))
ENV
  trap 'echo "netns-link.sh: create failed; removing what it made" >&2; destroy "$dir"' ERR
  ip netns add "$name"
  ip link add "$host" type veth peer name "$client" netns "$name"
  ip addr add "$base.$((last + 1))/30" dev "$host"
  ip link set "$host" up
  ip -n "$name" addr add "$base.$((last + 2))/30" dev "$client"
  ip -n "$name" link set "$client" up
  ip -n "$name" link set lo up
  trap - ERR
  echo "netns-link.sh: namespace $name, $host ($base.$((last + 1))) <-> $client ($base.$((last + 2)))" >&2
}

# tbf: burst of at least 4 ms at the rate (and 64 KiB, a GSO packet), a queue of 50 ms.
shape() {
  local dir=$1 bits=$2
  load "$dir"
  [[ $bits =~ ^[0-9]+$ ]] || die "rate must be bits per second, got $bits"
  if ((bits == 0)); then
    ip -n "$LINK_NETNS_NAME" link show "$LINK_CLIENT_IF" >/dev/null
    tc -n "$LINK_NETNS_NAME" qdisc del dev "$LINK_CLIENT_IF" root 2>/dev/null || true
    return 0
  fi
  local burst=$((bits / 8 / 250))
  ((burst >= 65536)) || burst=65536
  tc -n "$LINK_NETNS_NAME" qdisc replace dev "$LINK_CLIENT_IF" root tbf rate "${bits}bit" burst "$burst" latency 50ms
}

run_in() {
  local dir=$1
  shift
  load "$dir"
  exec nsenter --net="$LINK_NETNS" -- "$@"
}

destroy() {
  local dir=$1
  [[ -f $dir/env ]] || { rm -rf "$dir"; return 0; }
  load "$dir"
  # Deleting either end removes the pair; the namespace goes with its last reference.
  ip link del "$LINK_HOST_IF" 2>/dev/null || true
  if [[ -e /run/netns/$LINK_NETNS_NAME ]]; then ip netns del "$LINK_NETNS_NAME"; fi
  rm -rf "$dir"
}

case ${1:-} in
  create) [[ $# -eq 2 ]] || die "usage: netns-link.sh create DIR"; create "$2" ;;
  shape) [[ $# -eq 3 ]] || die "usage: netns-link.sh shape DIR BITS"; shape "$2" "$3" ;;
  exec) [[ $# -ge 3 ]] || die "usage: netns-link.sh exec DIR CMD..."; dir=$2; shift 2; run_in "$dir" "$@" ;;
  destroy) [[ $# -eq 2 ]] || die "usage: netns-link.sh destroy DIR"; destroy "$2" ;;
  *) die "usage: netns-link.sh create DIR | shape DIR BITS | exec DIR CMD... | destroy DIR" ;;
esac
