#!/usr/bin/env bash
# A one-node Ceph RADOS Gateway for tests and the local demo: one monitor, one
# memstore OSD and radosgw on loopback ports, all state under one directory.
#
#   rgw.sh install               install the Debian packages if missing
#   rgw.sh start DIR [PORT]      start a cluster in DIR; writes DIR/env (endpoint, keys, bucket)
#   rgw.sh stop DIR              stop the daemons started in DIR (by their PID files) and remove DIR
#   rgw.sh restart-rgw DIR       start radosgw of DIR again after it died (fault tests kill it); same port,
#                                returns once it answers
#
# Environment: RGW_MEMSTORE_BYTES (default 8 GiB; memstore allocates as it fills), RGW_BUCKET (default btrfs-to-s3-test),
# RGW_EXTRA_ADDRESS (an IPv4 address of an interface here that radosgw also listens on, same port: a client
# in another network namespace reaches it over a veth, netns-link.sh; default none, loopback only).
set -euo pipefail

die() { echo "rgw.sh: $*" >&2; exit 1; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

install_packages() {
  local missing=()
  for bin in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool curl; do
    command -v "$bin" >/dev/null || missing+=("$bin")
  done
  if ((${#missing[@]})); then
    echo "rgw.sh: installing ceph-mon ceph-osd radosgw (missing: ${missing[*]})" >&2
    apt_install ceph-mon ceph-osd radosgw ceph-common curl
  fi
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# Wait (bounded) until a command succeeds; never an unbounded sleep.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what (logs in $DIR/log)"
    sleep 0.5
  done
}

write_conf() {
  local mon_port=$1 rgw_port=$2 fsid=$3 key endpoints
  key=$(head -c 32 /dev/urandom | base64)
  endpoints="endpoint=127.0.0.1:$rgw_port"
  [[ -z ${RGW_EXTRA_ADDRESS:-} ]] || endpoints+=" endpoint=$RGW_EXTRA_ADDRESS:$rgw_port"
  cat >"$DIR/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# The OSD's own crush updates at start are mon commands that, under load, the monitor
# sometimes refuses ("wrong fsid", EPERM), failing the OSD's start; start() places osd.0 in
# the crush map itself.
osd crush update on start = false
osd class update on start = false
run dir = $DIR/run
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-8589934592}
osd max object size = 134217728
keyring = $DIR/keyring

[client.rgw]
rgw frontends = beast $endpoints
rgw dns name = localhost
rgw crypt require ssl = false
rgw crypt default encryption key = $key
rgw gc obj min wait = 5
rgw gc processor period = 5
rgw enable usage log = false
CONF
}

ceph_() { ceph -c "$DIR/ceph.conf" --connect-timeout 10 "$@"; }
admin() { radosgw-admin -c "$DIR/ceph.conf" "$@"; }

setup_osd() {
  rm -rf "$DIR/osd/ceph-0" && mkdir -p "$DIR/osd/ceph-0" &&
    ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs >>"$DIR/log/setup.log" 2>&1 &&
    ceph_ osd crush add osd.0 1.0 host=localhost root=default >>"$DIR/log/setup.log" 2>&1 &&
    ceph-osd -c "$DIR/ceph.conf" -i 0 >>"$DIR/log/setup.log" 2>&1
}

start_rgw() { radosgw -c "$DIR/ceph.conf" -n client.rgw >>"$DIR/log/setup.log" 2>&1; }

start() {
  DIR=$1
  local rgw_port=${2:-$(free_port)} mon_port fsid
  mon_port=$(free_port)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  install_packages
  [[ -e $DIR/run/mon.a.pid ]] && die "a cluster already runs in $DIR"
  mkdir -p "$DIR"/{run,log,mon/ceph-a,osd/ceph-0}
  DIR=$(cd "$DIR" && pwd)
  # A failed start stops what it started; its logs stay in $DIR/log.
  started=0
  trap '[[ $started == 1 ]] || { echo "rgw.sh: start failed; stopping its daemons (logs in $DIR/log)" >&2; kill_daemons "$DIR"; }' EXIT
  write_conf "$mon_port" "$rgw_port" "$fsid"

  monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$DIR/ceph.conf" -i a --mkfs --monmap "$DIR/monmap" >/dev/null
  ceph-mon -c "$DIR/ceph.conf" -i a
  wait_for "the monitor" 60 ceph_ -s

  # Right after quorum the monitor may still refuse commands (EPERM); retry, bounded.
  wait_for "the monitor to accept commands" 60 ceph_ osd create
  # Under load the monitor sometimes refused the OSD's own crush updates at its start
  # ("wrong fsid", EPERM), which ended the OSD; ceph.conf now turns them off. Should a
  # start still fail, set it up again from an empty data directory, a bounded number of times.
  local attempt
  for attempt in 1 2 3; do
    setup_osd && break
    ((attempt < 3)) || die "the OSD did not start after 3 attempts (logs in $DIR/log)"
    echo "rgw.sh: OSD setup failed (attempt $attempt); retrying" >&2
  done
  wait_for "the OSD" 60 bash -c "ceph -c '$DIR/ceph.conf' osd dump | grep -q '^osd.0 up'"

  start_rgw
  wait_for "radosgw" 90 curl -fsS -o /dev/null "http://127.0.0.1:$rgw_port/"

  # Archive classes must be in the placement target before the gateway accepts them.
  for class in STANDARD_IA GLACIER DEEP_ARCHIVE; do
    local pool="default.rgw.${class,,}.data"
    admin zonegroup placement add --rgw-zonegroup default --placement-id default-placement \
      --storage-class "$class" >/dev/null
    admin zone placement add --rgw-zone default --placement-id default-placement \
      --storage-class "$class" --data-pool "$pool" >/dev/null
  done
  kill "$(cat "$DIR/run/client.rgw.pid")"
  wait_for "radosgw to stop" 30 bash -c "! kill -0 $(cat "$DIR/run/client.rgw.pid") 2>/dev/null"
  start_rgw
  wait_for "radosgw" 90 curl -fsS -o /dev/null "http://127.0.0.1:$rgw_port/"

  local access secret bucket=${RGW_BUCKET:-btrfs-to-s3-test}
  access=TEST$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=')
  admin user create --uid=btrfs-to-s3-test --display-name=test \
    --access-key="$access" --secret="$secret" >/dev/null
  cat >"$DIR/env" <<ENV
BTRFS_S3_TEST_ENDPOINT=http://127.0.0.1:$rgw_port
BTRFS_S3_TEST_REGION=us-east-1
BTRFS_S3_TEST_BUCKET=$bucket
BTRFS_S3_TEST_RGW_PID_FILE=$DIR/run/client.rgw.pid
AWS_ACCESS_KEY_ID=$access
AWS_SECRET_ACCESS_KEY=$secret
ENV
  create_bucket "$rgw_port" "$bucket" "$access" "$secret"
  started=1
  echo "rgw.sh: gateway on http://127.0.0.1:$rgw_port, bucket $bucket, env in $DIR/env" >&2
}

# curl signs the request itself (SigV4), so no S3 client is needed here.
create_bucket() {
  local port=$1 bucket=$2 access=$3 secret=$4
  curl -fsS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://127.0.0.1:$port/$bucket" -o /dev/null || die "could not create bucket $bucket"
}

kill_daemons() {
  local dir=$1 name pid
  for name in client.rgw osd.0 mon.a; do
    [[ -f $dir/run/$name.pid ]] || continue
    pid=$(cat "$dir/run/$name.pid")
    kill "$pid" 2>/dev/null || continue
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# Whether a PID names a live process (a zombie waiting to be reaped counts as dead).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# Only radosgw: the monitor and the OSD keep running, so what the gateway stored survives.
restart_rgw() {
  [[ -f $1/ceph.conf ]] || die "no cluster in $1"
  DIR=$(cd "$1" && pwd)
  local pid_file=$DIR/run/client.rgw.pid port
  if [[ -f $pid_file ]] && alive "$(cat "$pid_file")"; then die "radosgw (PID $(cat "$pid_file")) still runs in $DIR"; fi
  port=$(sed -n 's/^rgw frontends = beast endpoint=127\.0\.0\.1:\([0-9]*\)\( .*\)\{0,1\}$/\1/p' "$DIR/ceph.conf")
  [[ -n $port ]] || die "no radosgw port in $DIR/ceph.conf"
  start_rgw
  # Polled more often than wait_for does: a client is retrying against this gateway while it comes back.
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; do
    ((SECONDS < deadline)) || die "timed out after 60s waiting for radosgw (logs in $DIR/log)"
    sleep 0.1
  done
}

stop() {
  DIR=$1
  [[ -d $DIR ]] || return 0
  kill_daemons "$DIR"
  rm -rf "$DIR"
}

case ${1:-} in
  install) install_packages ;;
  start) [[ $# -ge 2 ]] || die "usage: rgw.sh start DIR [PORT]"; start "$2" "${3:-}" ;;
  stop) [[ $# -eq 2 ]] || die "usage: rgw.sh stop DIR"; stop "$2" ;;
  restart-rgw) [[ $# -eq 2 ]] || die "usage: rgw.sh restart-rgw DIR"; restart_rgw "$2" ;;
  *) die "usage: rgw.sh install | start DIR [PORT] | stop DIR | restart-rgw DIR" ;;
esac
