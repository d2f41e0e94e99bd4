#!/usr/bin/env bash
# restore-without-btrfs-to-s3.sh: restores a btrfs-to-s3 backup with nothing but the AWS
# CLI, jq, coreutils and btrfs-progs, for the day btrfs-to-s3 itself is lost or broken.
#
# It reads the bucket as docs/format.md (versions 1 and 2) describes it: current.json (or
# --manifest-key), then parent_manifest back to the full, opening each manifest's private
# section (with `age -d` when encrypted) before anything is thawed. It makes every chunk
# object of the chain readable (RestoreObject for archived ones, then waits), and then per
# backup, oldest first, downloads its chunks, checks each chunk's stored size and SHA-256,
# decodes it (`age -d`, `zstd -d`) when encoded and checks its plaintext's size and
# SHA-256, checks the whole stream's SHA-256, and only then pipes the chunks, in order,
# into `btrfs receive TARGET`. Flags and exit codes: --help. The same by hand, and why it
# works: docs/restore-without-the-tool.md.
set -euo pipefail

PROG='restore-without-btrfs-to-s3'

usage() {
  cat <<'USAGE'
Usage: restore-without-btrfs-to-s3.sh --bucket B --prefix P --subvolume NAME --target DIR [options]

Restores the backup chain of one subvolume from a btrfs-to-s3 bucket (format versions 1 and 2)
into DIR with only the AWS CLI, jq, sha256sum and btrfs receive, plus age and zstd for
encrypted and compressed backups. Run as root.

Where the backups are:
  --bucket B              the bucket
  --prefix P              the s3.prefix they were written under
  --subvolume, -s NAME    the subvolume's name (the last component of its path)
  --manifest-key KEY      restore this backup instead of the one current.json points to
  --endpoint URL          an S3-compatible store (default: $AWS_ENDPOINT_URL_S3, then
                          $AWS_ENDPOINT_URL); the AWS CLI addresses it path-style
  --region R              the bucket's region (default: the AWS CLI's own setting)
  --identity-file FILE    the age identity (private key) file, for encrypted backups

Where it goes:
  --target, -t DIR        a new path, or an empty directory, on Btrfs. It receives one
                          read-only snapshot per backup of the chain; the last one is
                          the restored subvolume, and its path is printed on stdout
  --work-dir DIR          where one backup's chunks wait while they are checked
                          (default: the parent of DIR); needs room for the largest stream
                          (decoded) and one more chunk
  --skip-space-check      start even if free space looks too small

Archived chunks (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive tiers):
  --tier T                Standard (default), Bulk or Expedited (not for DEEP_ARCHIVE)
  --days N                days a thawed copy stays readable (default 7)
  --no-wait               request the thaw and exit 5; run the same command again later
  --poll-seconds N        seconds between looks while waiting (default 300)
  --timeout N             stop waiting after N seconds, with exit 5 (default 259200: 72 h)

Other:
  --jobs N                S3 requests and downloads at once (default 4)
  --aws-cli PATH          the AWS CLI to run (default: $AWS_CLI, else aws on PATH)
  -h, --help              this text

Credentials come from the AWS CLI's own chain (environment, AWS_PROFILE, ~/.aws).
Progress goes to stderr.

Exit codes:
  0    restored; stdout has the restored subvolume's path
  1    failed (one line names the object or the step); whatever this run received
       has been deleted
  2    refused before any thaw or download: a bad flag, a missing tool, not root,
       a target that is not empty or not on Btrfs, too little space
  5    archived chunks are still thawing; nothing was received. Run the same command
       later: it does not request the thaw again
  130  interrupted by SIGINT, 143 by SIGTERM; whatever was received has been deleted
USAGE
}

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  say "$*"
  exit 1
}
refuse() {
  say "$*"
  exit 2
}
pending() {
  say "$*"
  exit 5
}

# ---------------------------------------------------------------------------- flags

bucket='' prefix='' subvolume='' target='' manifest_key='' region='' identity_file=''
endpoint=${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-}}
tier=Standard days=7 wait_for_thaw=1 poll_seconds=300 timeout=259200 jobs=4
work_base='' skip_space_check=0 aws_cli=${AWS_CLI:-aws}

while (($# > 0)); do
  opt=$1
  shift
  if [[ $opt == --*=* ]]; then
    set -- "${opt#*=}" "$@"
    opt=${opt%%=*}
  fi
  case $opt in
    -h | --help)
      usage
      exit 0
      ;;
    --no-wait) wait_for_thaw=0 && continue ;;
    --skip-space-check) skip_space_check=1 && continue ;;
    --bucket | --prefix | --subvolume | -s | --target | -t | --manifest-key | --endpoint | --region | --tier | --days | \
      --poll-seconds | --timeout | --jobs | --work-dir | --aws-cli | --identity-file)
      (($# > 0)) || refuse "$opt needs a value (see --help)"
      value=$1
      shift
      ;;
    *) refuse "unknown argument: $opt (see --help)" ;;
  esac
  case $opt in
    --bucket) bucket=$value ;;
    --prefix) prefix=$value ;;
    --subvolume | -s) subvolume=$value ;;
    --target | -t) target=$value ;;
    --manifest-key) manifest_key=$value ;;
    --endpoint) endpoint=$value ;;
    --region) region=$value ;;
    --tier) tier=$value ;;
    --days) days=$value ;;
    --poll-seconds) poll_seconds=$value ;;
    --timeout) timeout=$value ;;
    --jobs) jobs=$value ;;
    --work-dir) work_base=$value ;;
    --aws-cli) aws_cli=$value ;;
    --identity-file) identity_file=$value ;;
  esac
done

for required in bucket prefix subvolume target; do
  [[ -n ${!required} ]] || refuse "--$required is required (see --help)"
done
# As btrfs-to-s3 normalises s3.prefix.
while [[ $prefix == /* ]]; do prefix=${prefix#/}; done
while [[ $prefix == */ ]]; do prefix=${prefix%/}; done
[[ -n $prefix ]] || refuse "--prefix must not be empty or only slashes"
[[ $subvolume =~ ^[^/]+$ && $subvolume != . && $subvolume != .. ]] ||
  refuse "--subvolume must be a name (the last component of the subvolume's path), got \"$subvolume\""
[[ $tier =~ ^(Standard|Bulk|Expedited)$ ]] || refuse "--tier must be Standard, Bulk or Expedited, got \"$tier\""
[[ $days =~ ^[1-9][0-9]*$ ]] || refuse "--days must be a whole number of days, got \"$days\""
[[ $poll_seconds =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ && ! $poll_seconds =~ ^[0.]+$ ]] ||
  refuse "--poll-seconds must be a positive number, got \"$poll_seconds\""
[[ $timeout =~ ^[0-9]+$ ]] || refuse "--timeout must be a whole number of seconds, got \"$timeout\""
[[ $jobs =~ ^[1-9][0-9]*$ ]] || refuse "--jobs must be a positive whole number, got \"$jobs\""
[[ -z $identity_file || -r $identity_file ]] || refuse "--identity-file $identity_file cannot be read"

# ---------------------------------------------------------------------------- preflight

# `wait -n -p` (which background job ended) is bash 5.1; Debian 11 and later have it.
((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))) ||
  refuse "needs bash 5.1 or newer, this is $BASH_VERSION"
need() { command -v "$1" >/dev/null 2>&1 || refuse "$1 is not installed (Debian package: $2)"; }
need "$aws_cli" awscli
need jq jq
need btrfs btrfs-progs
for tool in sha256sum stat df mktemp mkfifo numfmt realpath; do need "$tool" coreutils; done
((EUID == 0)) || refuse "must run as root: btrfs receive needs it"

target=$(realpath -m -- "$target")
target_parent=$(dirname -- "$target")
target_existed=0
[[ -d $target_parent ]] || refuse "--target $target: its parent directory $target_parent does not exist"
if [[ -e $target || -L $target ]]; then
  [[ -d $target && ! -L $target ]] || refuse "--target $target exists and is not a directory"
  [[ -z $(ls -A -- "$target") ]] || refuse "--target $target exists and is not empty"
  target_existed=1
fi
target_fs=$target_parent
((target_existed == 0)) || target_fs=$target
[[ $(stat -f -c %T -- "$target_fs") == btrfs ]] ||
  refuse "--target $target is not on a Btrfs filesystem (btrfs receive writes only to Btrfs)"
[[ -w $target_fs ]] || refuse "--target $target is not writable"
work_base=$(realpath -m -- "${work_base:-$target_parent}")
[[ -d $work_base && -w $work_base ]] || refuse "--work-dir $work_base is not a writable directory"
[[ $work_base/ != "$target"/* ]] || refuse "--work-dir must not be inside --target"

AWS=("$aws_cli" --output json)
[[ -z $endpoint ]] || AWS+=(--endpoint-url "$endpoint")
[[ -z $region ]] || AWS+=(--region "$region")
export AWS_PAGER=''

# ---------------------------------------------------------------------------- cleanup

WORK=''
created_target=0
received=0            # 1 once a btrfs receive has started: from then on a failure deletes
declare -A RUNNING=() # background job PID -> the item it works on (see run_each)
OTHER_PIDS=()         # other background processes: the receive, its reader, a sleep
B_NAME=()

cleanup() {
  local status=$? pid b path
  trap - EXIT INT TERM
  for pid in "${!RUNNING[@]}" "${OTHER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((status != 0 && received == 1)); then
    for ((b = ${#B_NAME[@]} - 1; b >= 0; b--)); do
      path=$target/${B_NAME[b]}
      [[ -e $path ]] || continue
      btrfs subvolume delete -- "$path" >/dev/null 2>&1 || say "could not delete $path; delete it by hand"
    done
    if ((created_target == 1)); then rmdir -- "$target" 2>/dev/null || say "could not remove $target"; fi
  fi
  [[ -z $WORK ]] || rm -rf -- "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted by SIGINT"; exit 130' INT
trap 'say "interrupted by SIGTERM"; exit 143' TERM

WORK=$(mktemp -d -- "$work_base/.$PROG.XXXXXX")

# ---------------------------------------------------------------------------- helpers

human() { numfmt --to=iec-i --suffix=B "$1"; }

last_line() { grep -v '^[[:space:]]*$' -- "$1" | tail -n 1 || true; }

# The AWS CLI's one-line error from its stderr file.
aws_message() {
  local line
  line=$(last_line "$1")
  # Both AWS CLI v1 and v2 crash on an S3 error whose <Message> is empty (Ceph sends such).
  if [[ $line == *"argument of type 'NoneType' is not iterable"* ]]; then
    line="the store sent an error without a message, which this AWS CLI cannot show (its --debug output has it)"
  fi
  printf '%s' "${line:-no error message}"
}

# Runs "START ITEM" for each ITEM, at most $jobs at once; START starts one background
# process and leaves its PID in $!. As each ends, "FINISH ITEM STATUS" runs in this shell.
run_each() {
  local start=$1 finish=$2 item
  shift 2
  for item in "$@"; do
    while ((${#RUNNING[@]} >= jobs)); do reap_one "$finish"; done
    "$start" "$item"
    RUNNING[$!]=$item
  done
  while ((${#RUNNING[@]} > 0)); do reap_one "$finish"; done
}
reap_one() {
  local pid='' status=0 item
  wait -n -p pid "${!RUNNING[@]}" || status=$?
  [[ -n $pid && -n ${RUNNING[$pid]+set} ]] || die "lost track of a background job (wait returned $status)"
  item=${RUNNING[$pid]}
  unset "RUNNING[$pid]"
  "$1" "$item" "$status"
}

# Downloads a small object (WHAT: pointer, manifest) to FILE. Returns 3 if it does not exist.
fetch_json() {
  local what=$1 key=$2 file=$3 err=$WORK/fetch.err
  if ! "${AWS[@]}" s3 cp --only-show-errors --force-glacier-transfer "s3://$bucket/$key" "$file" >/dev/null 2>"$err"; then
    grep -q '(404)' -- "$err" && return 3
    die "could not read s3://$bucket/$key: $(aws_message "$err")"
  fi
  jq -e 'type == "object"' -- "$file" >/dev/null 2>&1 || die "$what $key is not valid JSON"
  return 0
}

# ---------------------------------------------------------------------------- the chain

# A manifest's first problem (docs/format.md, versions 1 and 2), or nothing. $subvolume is jq's.
# shellcheck disable=SC2016
MANIFEST_PROBLEM='
  def hex64: type == "string" and test("^[0-9a-f]{64}$");
  def count: type == "number" and . >= 0 and . == floor;
  def name: type == "string" and test("^[^/]+$") and . != "." and . != "..";
  if .version != 1 and .version != 2 then "has version \(.version | tojson); this script reads versions 1 and 2 only"
  elif .version == 2 and ((.encoding.compression | IN("none", "zstd")) and (.encoding.encryption | IN("none", "age")) | not) then
    "has an unknown encoding \(.encoding | tojson)"
  elif .subvolume != $subvolume then "belongs to subvolume \(.subvolume | tojson), not \($subvolume | tojson)"
  elif .kind == "full" and .parent_manifest != null then "is a full but names a parent"
  elif .kind == "inc" and ((.parent_manifest | type) != "string" or .parent_manifest == "") then
    "is an incremental without a parent"
  elif .kind != "full" and .kind != "inc" then "has an unknown kind \(.kind | tojson)"
  elif (.snapshot.name | name) | not then "has no usable snapshot.name"
  elif (.snapshot.uuid | type) != "string" then "has no snapshot.uuid"
  elif (.chunks | type) != "array" or (.chunks | length) == 0 then "has no chunks"
  elif any(.chunks[]; ((.key | type) == "string" and .key != "" and (.size | count) and (.sha256 | hex64)) | not) then
    "has a malformed chunk (each needs key, size and sha256)"
  elif (.total_bytes | count) | not then "has no total_bytes"
  elif ([.chunks[].size] | add) != (if .version == 1 then .total_bytes else .stored_bytes end) then
    "lists chunks of \([.chunks[].size] | add) bytes in all, but it records \(if .version == 1 then .total_bytes else .stored_bytes end) stored"
  elif .version == 2 and ([.chunks[].plain_size] | add) != .total_bytes then
    "lists chunks of \([.chunks[].plain_size] | add) plaintext bytes in all, but total_bytes is \(.total_bytes)"
  elif .version == 1 and ((.restore.stream_sha256 | hex64) | not) then "has no restore.stream_sha256"
  else empty end'

# The private section (docs/format.md): the stream's and each chunk's plaintext SHA-256, in
# the clear or sealed with age. Opened before anything is thawed, so a missing key costs nothing.
open_private() {
  local file=$1 out=$2 key=$3 recipients
  if jq -e '.version == 2 and (.private.age | type) == "string"' -- "$file" >/dev/null; then
    recipients=$(jq -r '.encoding.recipients | join(", ")' -- "$file")
    [[ -n $identity_file ]] || refuse "manifest $key is encrypted (age, to $recipients): pass --identity-file with a key of one of them"
    need age age
    jq -r '.private.age' -- "$file" | age -d -i "$identity_file" >"$out" 2>"$WORK/age.err" ||
      refuse "manifest $key is encrypted to $recipients; $identity_file does not open it: $(last_line "$WORK/age.err")"
  else
    jq '(if .version == 1 then {stream_sha256: .restore.stream_sha256, chunk_sha256: [.chunks[].sha256]} else .private.clear end)' \
      -- "$file" >"$out" || die "manifest $key has no readable private section"
  fi
  jq -e --slurpfile m "$file" 'def hex64: type == "string" and test("^[0-9a-f]{64}$");
    (.stream_sha256 | hex64) and (.chunk_sha256 | type == "array" and length == ($m[0].chunks | length) and all(.[]; hex64))' \
    -- "$out" >/dev/null 2>&1 || die "manifest $key: its private section lacks the stream's SHA-256 or one per chunk"
  if jq -e '.version == 2 and .encoding.compression == "zstd"' -- "$file" >/dev/null; then need zstd zstd; fi
}

if [[ -z $manifest_key ]]; then
  pointer_key=$prefix/subvol/$subvolume/current.json
  status=0
  fetch_json pointer "$pointer_key" "$WORK/current.json" || status=$?
  ((status != 3)) || die "no backup of subvolume \"$subvolume\": $pointer_key does not exist (check --bucket and --prefix)"
  problem=$(jq -r 'if .version != 1 then "has version \(.version | tojson); this script reads version 1 only"
    elif (.manifest_key | type) != "string" or .manifest_key == "" then "has no manifest_key" else empty end' \
    -- "$WORK/current.json")
  [[ -z $problem ]] || die "pointer $pointer_key $problem"
  manifest_key=$(jq -r .manifest_key -- "$WORK/current.json")
fi

# Newest first while following parents; reversed below.
newest_first=()
declare -A seen=()
key=$manifest_key
child=''
while :; do
  [[ -z ${seen[$key]+set} ]] || die "broken chain: manifest $key is its own ancestor"
  ((${#newest_first[@]} < 10000)) || die "broken chain: more than 10000 manifests from $manifest_key"
  seen[$key]=1
  file=$WORK/manifest.${#newest_first[@]}.json
  status=0
  fetch_json manifest "$key" "$file" || status=$?
  if ((status == 3)); then
    [[ -n $child ]] || die "manifest $key does not exist"
    die "broken chain: manifest $key, the parent of $child, does not exist"
  fi
  problem=$(jq -r --arg subvolume "$subvolume" "$MANIFEST_PROBLEM" -- "$file") || die "manifest $key could not be checked"
  [[ -z $problem ]] || die "manifest $key $problem"
  open_private "$file" "$WORK/private.${#newest_first[@]}.json" "$key"
  newest_first+=("$key")
  parent=$(jq -r '.parent_manifest // ""' -- "$file")
  [[ -n $parent ]] || break
  child=$key
  key=$parent
done

# Per backup b (oldest first) and per chunk g (in chain order, across backups).
B_KEY=() B_NAME=() B_UUID=() B_KIND=() B_TOTAL=() B_STREAM=() B_CHUNKS=()
# Stored size and SHA-256, then (for encoded chunks) how to decode and the plaintext's size and SHA-256.
CK_KEY=() CK_SIZE=() CK_SHA=() CK_ENC=() CK_COMP=() CK_PLAIN_SIZE=() CK_PLAIN_SHA=()
for ((i = ${#newest_first[@]} - 1; i >= 0; i--)); do
  file=$WORK/manifest.$i.json
  mapfile -t fields < <(jq -r '.snapshot.name, .snapshot.uuid, .kind, (.total_bytes | tostring),
    (.encoding.encryption // "none"), (.encoding.compression // "none")' -- "$file")
  B_KEY+=("${newest_first[i]}") B_NAME+=("${fields[0]}") B_UUID+=("${fields[1]}") B_KIND+=("${fields[2]}")
  B_TOTAL+=("${fields[3]}") B_STREAM+=("$(jq -r .stream_sha256 -- "$WORK/private.$i.json")")
  ids=()
  while IFS=$'\t' read -r chunk_key chunk_size chunk_sha plain_size plain_sha; do
    ids+=("${#CK_KEY[@]}")
    CK_KEY+=("$chunk_key") CK_SIZE+=("$chunk_size") CK_SHA+=("$chunk_sha")
    CK_ENC+=("${fields[4]}") CK_COMP+=("${fields[5]}") CK_PLAIN_SIZE+=("$plain_size") CK_PLAIN_SHA+=("$plain_sha")
  done < <(jq -r --slurpfile p "$WORK/private.$i.json" \
    '.chunks | to_entries[] | [.value.key, (.value.size | tostring), .value.sha256,
      ((.value.plain_size // .value.size) | tostring), $p[0].chunk_sha256[.key]] | @tsv' -- "$file")
  B_CHUNKS+=("${ids[*]}")
done
nb=${#B_KEY[@]}
nc=${#CK_KEY[@]}

sum=0 largest=0
for total in "${B_TOTAL[@]}"; do
  sum=$((sum + total))
  ((total <= largest)) || largest=$total
done
say "chain of $nb backup(s) ending at ${B_KEY[nb - 1]}: $nc chunk object(s), $(human "$sum")"

# ---------------------------------------------------------------------------- free space

avail() { df -B1 --output=avail -- "$1" | tail -n 1 | tr -d ' '; }
mount_of() { df --output=target -- "$1" | tail -n 1; }
if ((skip_space_check == 0)); then
  hint="free some space, choose another --work-dir, or pass --skip-space-check"
  if [[ $(mount_of "$target_fs") == "$(mount_of "$WORK")" ]]; then
    free=$(avail "$target_fs")
    ((free >= sum + largest)) || refuse "the filesystem of $target has $(human "$free") free; the chain needs about" \
      "$(human $((sum + largest))) (its streams, plus the largest again while it is checked); $hint"
  else
    free=$(avail "$target_fs")
    ((free >= sum)) || refuse "the filesystem of $target has $(human "$free") free; the chain's streams need about $(human "$sum"); $hint"
    free=$(avail "$WORK")
    ((free >= largest)) || refuse "--work-dir $work_base has $(human "$free") free; the largest stream needs $(human "$largest"); $hint"
  fi
fi

# ---------------------------------------------------------------------------- the thaw

# Every chunk of the whole chain is made readable before any is downloaded, and every
# thaw is requested before waiting for any: S3 works on them in parallel.
#
# A one-byte GET decides what is readable now: it also covers stores that accept the
# archive class names but have no archive tier (Ceph RGW, MinIO), where the bytes of a
# DEEP_ARCHIVE object are served and RestoreObject is refused. What it cannot read is
# HEADed, and RestoreObject is sent for archived objects with no thaw running.
CK_STATE=()  # per chunk: ready, thawing, or archived (a thaw is to be requested)
CK_IT=()     # 1 for Intelligent-Tiering (S3 refuses Days for it)
CK_CLASS=()
to_look=() to_request=()

check_length() { # CHUNK LENGTH: the object's size, as the store reports it, against the manifest
  [[ $2 == "${CK_SIZE[$1]}" ]] ||
    die "chunk ${CK_KEY[$1]} is $2 bytes in the bucket; its manifest says ${CK_SIZE[$1]} (the object was truncated or replaced)"
}

start_probe() {
  "${AWS[@]}" s3api get-object --bucket "$bucket" --key "${CK_KEY[$1]}" --range bytes=0-0 "$WORK/probe.$1" \
    >"$WORK/probe.$1.json" 2>"$WORK/probe.$1.err" &
}
finish_probe() {
  local g=$1 status=$2 range
  if ((status != 0)); then
    to_look+=("$g")
    return 0
  fi
  range=$(jq -r '.ContentRange // ""' -- "$WORK/probe.$g.json")
  [[ $range == bytes\ 0-0/* ]] || die "chunk ${CK_KEY[g]}: a one-byte GET answered Content-Range \"$range\""
  check_length "$g" "${range#*/}"
  CK_STATE[g]=ready
}

start_head() {
  "${AWS[@]}" s3api head-object --bucket "$bucket" --key "${CK_KEY[$1]}" >"$WORK/head.$1" 2>"$WORK/head.$1.err" &
}
finish_head() {
  local g=$1 status=$2 fields class restore archive_status archived=0
  if ((status != 0)); then
    grep -q '(404)' -- "$WORK/head.$g.err" && die "chunk ${CK_KEY[g]} does not exist"
    die "HeadObject of chunk ${CK_KEY[g]} failed: $(aws_message "$WORK/head.$g.err")"
  fi
  mapfile -t fields < <(jq -r '(.StorageClass // "STANDARD"), (.Restore // ""), (.ArchiveStatus // ""), (.ContentLength | tostring)' \
    -- "$WORK/head.$g")
  class=${fields[0]-} restore=${fields[1]-} archive_status=${fields[2]-}
  check_length "$g" "${fields[3]-}"
  CK_CLASS[g]=$class CK_IT[g]=0
  case $class in
    GLACIER | DEEP_ARCHIVE) archived=1 ;;
    INTELLIGENT_TIERING)
      CK_IT[g]=1
      [[ $archive_status != *ARCHIVE_ACCESS && -z $restore ]] || archived=1
      ;;
  esac
  if ((archived == 0)) || [[ $restore == *'ongoing-request="false"'* ]]; then
    # Readable by its class or its thawed copy; if the first GET failed anyway, that is the error.
    [[ ${CK_STATE[g]-} == thawing ]] || die "chunk ${CK_KEY[g]} cannot be read: $(aws_message "$WORK/probe.$g.err")"
    CK_STATE[g]=ready
  elif [[ $restore == *'ongoing-request="true"'* ]]; then
    CK_STATE[g]=thawing
  elif [[ -z $restore ]]; then
    # Never thawed, or its thawed copy expired: request it (again).
    CK_STATE[g]=archived
    to_request+=("$g")
  else
    die "chunk ${CK_KEY[g]}: unexpected x-amz-restore header: $restore"
  fi
}

start_restore() {
  local request
  if ((CK_IT[$1] == 1)); then
    request=$(printf '{"GlacierJobParameters":{"Tier":"%s"}}' "$tier")
  else
    request=$(printf '{"Days":%d,"GlacierJobParameters":{"Tier":"%s"}}' "$days" "$tier")
  fi
  "${AWS[@]}" s3api restore-object --bucket "$bucket" --key "${CK_KEY[$1]}" --restore-request "$request" \
    >/dev/null 2>"$WORK/restore.$1.err" &
}
finish_restore() {
  local g=$1 status=$2
  ((status == 0)) || grep -q '(RestoreAlreadyInProgress)' -- "$WORK/restore.$g.err" ||
    die "RestoreObject of chunk ${CK_KEY[g]} failed: $(aws_message "$WORK/restore.$g.err")"
  CK_STATE[g]=thawing
}

# HEADs the given chunks and requests the thaw of those that need one.
look_and_request() {
  local g
  to_request=()
  run_each start_head finish_head "$@"
  if [[ $tier == Expedited ]]; then
    for g in "${to_request[@]}"; do
      [[ ${CK_CLASS[g]} != DEEP_ARCHIVE ]] ||
        refuse "--tier Expedited is not offered for DEEP_ARCHIVE objects such as ${CK_KEY[g]}; use Standard or Bulk"
    done
  fi
  run_each start_restore finish_restore "${to_request[@]}"
}

thaw_started=$SECONDS
all=()
for ((g = 0; g < nc; g++)); do all+=("$g"); done
run_each start_probe finish_probe "${all[@]}"
archived=${#to_look[@]}
waiting=("${to_look[@]}")
while ((${#waiting[@]} > 0)); do
  look_and_request "${waiting[@]}"
  waiting=()
  for g in "${to_look[@]}"; do [[ ${CK_STATE[g]} == ready ]] || waiting+=("$g"); done
  ((${#waiting[@]} > 0)) || break
  readable="$((archived - ${#waiting[@]})) of $archived archived chunk objects are readable"
  ((wait_for_thaw == 1)) ||
    pending "$readable; their thaw is requested (tier $tier, $days days): run the same command again later, it does not request it again"
  waited=$((SECONDS - thaw_started))
  ((waited < timeout)) ||
    pending "$readable after $waited s; stopped waiting (--timeout $timeout): run the same command again later, it does not request the thaw again"
  say "$readable after $waited s; waiting for the thaw (next look in $poll_seconds s)"
  sleep "$poll_seconds" &
  OTHER_PIDS=("$!")
  wait "$!"
  OTHER_PIDS=()
done
((archived == 0)) || say "$archived of $archived archived chunk objects are readable after $((SECONDS - thaw_started)) s"

# ---------------------------------------------------------------------------- download, check, receive

start_get() {
  "${AWS[@]}" s3 cp --only-show-errors --force-glacier-transfer "s3://$bucket/${CK_KEY[$1]}" "$WORK/chunk.$1" \
    >/dev/null 2>"$WORK/get.$1.err" &
}
finish_get() {
  local g=$1 status=$2 size actual
  ((status == 0)) || die "downloading chunk ${CK_KEY[g]} failed: $(aws_message "$WORK/get.$g.err")"
  size=$(stat -c %s -- "$WORK/chunk.$g")
  [[ $size == "${CK_SIZE[g]}" ]] || die "chunk ${CK_KEY[g]}: downloaded $size bytes; its manifest says ${CK_SIZE[g]}"
  read -r actual _ < <(sha256sum -- "$WORK/chunk.$g")
  [[ $actual == "${CK_SHA[g]}" ]] ||
    die "chunk ${CK_KEY[g]} does not match its manifest: SHA-256 expected ${CK_SHA[g]}, actual $actual"
  [[ ${CK_ENC[g]} == none && ${CK_COMP[g]} == none ]] || decode_chunk "$g"
}

# Replaces a verified stored chunk with its plaintext: age -d, then zstd -d, as its manifest says.
decode_chunk() {
  local g=$1 size actual
  local decrypt=(cat) decompress=(cat)
  [[ ${CK_ENC[g]} == none ]] || decrypt=(age -d -i "$identity_file")
  [[ ${CK_COMP[g]} == none ]] || decompress=(zstd -d -q -c)
  "${decrypt[@]}" <"$WORK/chunk.$g" 2>"$WORK/decode.$g.err" | "${decompress[@]}" >"$WORK/chunk.$g.plain" 2>>"$WORK/decode.$g.err" ||
    die "decoding chunk ${CK_KEY[g]} failed: $(last_line "$WORK/decode.$g.err")"
  size=$(stat -c %s -- "$WORK/chunk.$g.plain")
  read -r actual _ < <(sha256sum -- "$WORK/chunk.$g.plain")
  [[ $size == "${CK_PLAIN_SIZE[g]}" && $actual == "${CK_PLAIN_SHA[g]}" ]] ||
    die "chunk ${CK_KEY[g]} decodes to $size bytes with SHA-256 $actual; its manifest says ${CK_PLAIN_SIZE[g]} bytes, ${CK_PLAIN_SHA[g]}"
  mv -- "$WORK/chunk.$g.plain" "$WORK/chunk.$g"
}

for ((b = 0; b < nb; b++)); do
  read -r -a ids <<<"${B_CHUNKS[b]}"
  say "backup $((b + 1)) of $nb (${B_KIND[b]}, ${B_NAME[b]}): downloading ${#ids[@]} chunk(s), $(human "${B_TOTAL[b]}")"
  run_each start_get finish_get "${ids[@]}"
  files=()
  for g in "${ids[@]}"; do files+=("$WORK/chunk.$g"); done
  read -r actual _ < <(cat -- "${files[@]}" | sha256sum)
  [[ $actual == "${B_STREAM[b]}" ]] ||
    die "backup ${B_KEY[b]}: its stream does not match the recorded stream SHA-256: expected ${B_STREAM[b]}, actual $actual"

  if ((target_existed == 0 && created_target == 0)); then
    mkdir -- "$target"
    created_target=1
  fi
  received=1
  # Both ends in the background, so a signal is handled at once and each status is known:
  # a reader that fails early must not pass for the end of the stream.
  mkfifo -- "$WORK/stream"
  btrfs receive -f "$WORK/stream" "$target" >"$WORK/receive.out" 2>"$WORK/receive.err" &
  receive_pid=$!
  cat -- "${files[@]}" >"$WORK/stream" &
  cat_pid=$!
  OTHER_PIDS=("$receive_pid" "$cat_pid")
  receive_status=0
  wait "$receive_pid" || receive_status=$?
  # A receive that ended without reading everything (or without opening the pipe) leaves cat blocked.
  kill "$cat_pid" 2>/dev/null || true
  cat_status=0
  wait "$cat_pid" || cat_status=$?
  OTHER_PIDS=()
  rm -f -- "$WORK/stream"
  ((receive_status == 0)) || die "btrfs receive of ${B_KEY[b]} failed: $(last_line "$WORK/receive.err")"
  ((cat_status == 0)) || die "reading the downloaded chunks of ${B_KEY[b]} failed (status $cat_status)"

  path=$target/${B_NAME[b]}
  received_uuid=$(btrfs subvolume show -- "$path" 2>/dev/null | sed -n 's/^[[:space:]]*Received UUID:[[:space:]]*//p')
  [[ $received_uuid == "${B_UUID[b]}" ]] ||
    die "$path: Received UUID is \"$received_uuid\"; the manifest's snapshot.uuid is ${B_UUID[b]}"
  rm -f -- "${files[@]}"
done

say "restored ${B_KEY[nb - 1]} to $path (read-only; Received UUID ${B_UUID[nb - 1]})"
printf '%s\n' "$path"
