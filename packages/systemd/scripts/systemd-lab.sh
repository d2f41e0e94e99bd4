#!/usr/bin/env bash
# Runs the rendered btrfs-to-s3.service once under a real systemd, on a machine where
# systemd is not running (CI, containers): systemd becomes PID 1 of fresh pid, mount,
# uts, ipc and cgroup namespaces, starts the service with its whole sandbox, and exits
# with the service's result. Use it before changing a sandbox directive.
#
#   systemd-lab.sh [--drill] CONFIG [DROP-IN.conf...]
#
# --drill installs with `systemd install --drill` and runs btrfs-to-s3-drill.service
# instead (the drop-ins go to it): a real drill under its sandbox. CONFIG then needs
# drill.scratch_dir, and a bucket with backups to drill.
#
# CONFIG is a btrfs-to-s3 config whose paths lie outside /tmp and /var/tmp (the service
# has private ones). AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) from
# this environment reach the service through a drop-in on the lab's private /run. Extra
# drop-ins (e.g. one adding `MemoryDenyWriteExecute=yes`, or an ExecStart= with --once)
# are added as given. Needs root. The host's network namespace is shared: a gateway on
# 127.0.0.1 is reachable.
set -euo pipefail

die() { echo "systemd-lab.sh: $*" >&2; exit 2; }
unit=btrfs-to-s3.service
install_flags=()
if [[ ${1:-} == --drill ]]; then unit=btrfs-to-s3-drill.service; install_flags=(--drill); shift; fi
(($# >= 1)) || die "usage: systemd-lab.sh [--drill] CONFIG [DROP-IN.conf...]"
[[ -d /run/systemd/system ]] && die "systemd is running on this machine; use systemctl start $unit"
config=$(realpath "$1"); shift
cli=$(realpath "$(dirname "$0")/../../../apps/cli/bin/run.js")
systemd=/lib/systemd/systemd
[[ -x $systemd ]] || die "no $systemd"

work=$(mktemp -d /var/lib/btrfs-to-s3-lab.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/units" "$work/dropins"
"$cli" systemd install "${install_flags[@]}" --config "$config" --unit-dir "$work/units" --no-enable >&2
for dropin in "$@"; do cp "$dropin" "$work/dropins/"; done

cat >"$work/boot.sh" <<'EOF'
#!/usr/bin/env bash
# PID 1 of the lab: a private /run with the units, then systemd itself.
set -euo pipefail
work=$1 unit=$2
mount -t tmpfs tmpfs /run
mkdir -p "/run/systemd/system/$unit.d" /run/lock
cp "$work"/units/* /run/systemd/system/
cp "$work"/dropins/* "/run/systemd/system/$unit.d/" 2>/dev/null || true
{
  echo '[Unit]'
  # Not sysinit.target and friends: only the service and its sandbox are under test.
  echo 'DefaultDependencies=no'
  echo 'SuccessAction=exit'
  echo 'FailureAction=exit'
  echo '[Service]'
  echo "StandardOutput=append:$work/service.log"
  echo "StandardError=append:$work/service.log"
  for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
    [[ -n ${!name:-} ]] && echo "Environment=$name=${!name}"
  done
} >"/run/systemd/system/$unit.d/00-lab.conf"
# Nothing brings the network up here; the host's is already up.
ln -s /dev/null /run/systemd/system/network-online.target
export container=btrfs-to-s3-lab
exec /lib/systemd/systemd --system "--unit=$unit" --log-target=console
EOF
chmod +x "$work/boot.sh"

status=0
timeout -s KILL "${LAB_TIMEOUT_SECONDS:-600}" \
  unshare --pid --fork --kill-child --mount --uts --ipc --cgroup --propagation private --mount-proc \
  "$work/boot.sh" "$work" "$unit" >"$work/pid1.log" 2>&1 || status=$?
# systemd leaves its init.scope cgroup behind (empty) under ours in each hierarchy it used.
while IFS=: read -r _ _ path; do
  for dir in /sys/fs/cgroup/*"${path%/}"/init.scope /sys/fs/cgroup"${path%/}"/init.scope; do
    [[ -d $dir ]] && rmdir "$dir" 2>/dev/null || true
  done
done </proc/self/cgroup
cat "$work/service.log" 2>/dev/null || true
((status == 0)) || { echo "systemd-lab.sh: the service failed (exit $status); systemd said:" >&2; tail -n 20 "$work/pid1.log" >&2; }
exit "$status"
