/**
 * The service's sandbox. Every directive here was checked against what a backup
 * does: btrfs-progs snapshot/show/delete/send (ioctls that need CAP_SYS_ADMIN), Node
 * (V8's JIT), HTTPS to S3, and the files named in the config. README.md explains
 * each one, and each directive in REFUSED_DIRECTIVES, in a table a test keeps in step.
 * The drill service's sandbox (DRILL_SANDBOX_DIRECTIVES) is derived from it, widened
 * only where `btrfs receive` needs it; README.md explains each difference.
 */

/**
 * What a backup needs, and no more (the timer never runs a restore):
 * - CAP_SYS_ADMIN: `btrfs send`, subvolume deletion and the tree-search ioctls behind
 *   `btrfs subvolume show`.
 * - CAP_DAC_READ_SEARCH: opening a subvolume (and its snapshots) whose root directory
 *   belongs to another user, e.g. /home/alice with mode 0700.
 * - CAP_FOWNER: the kernel lets only a subvolume's owner snapshot it, and `btrfs send`
 *   opens the snapshot with O_NOATIME, which also needs ownership.
 */
export const BACKUP_CAPABILITIES = ['CAP_SYS_ADMIN', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER'] as const;

/**
 * Address families: IPv4/IPv6 for S3, Unix sockets for the journal and name service,
 * netlink for glibc's getaddrinfo(AI_ADDRCONFIG), which Node uses on every connect.
 */
export const ADDRESS_FAMILIES = ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'] as const;

/** Fixed sandbox directives, in the order they are rendered. */
export const SANDBOX_DIRECTIVES: readonly (readonly [directive: string, value: string])[] = [
  ['CapabilityBoundingSet', BACKUP_CAPABILITIES.join(' ')],
  ['NoNewPrivileges', 'yes'],
  ['ProtectSystem', 'strict'],
  ['ProtectHome', 'read-only'],
  ['PrivateTmp', 'yes'],
  ['PrivateDevices', 'yes'],
  ['PrivateIPC', 'yes'],
  ['ProtectKernelTunables', 'yes'],
  ['ProtectKernelModules', 'yes'],
  ['ProtectKernelLogs', 'yes'],
  ['ProtectControlGroups', 'yes'],
  // Only /proc/PID (the lock's liveness check reads /proc/PID/stat) and /proc/self
  // (btrfs-progs reads mounts there); Node falls back to sysinfo(2) for memory sizes.
  ['ProcSubset', 'pid'],
  ['ProtectClock', 'yes'],
  ['ProtectHostname', 'yes'],
  ['RestrictNamespaces', 'yes'],
  ['RestrictRealtime', 'yes'],
  ['RestrictSUIDSGID', 'yes'],
  ['LockPersonality', 'yes'],
  ['RestrictAddressFamilies', ADDRESS_FAMILIES.join(' ')],
  ['SystemCallArchitectures', 'native'],
  // @pkey: V8 uses memory protection keys for its code space where the CPU has them.
  ['SystemCallFilter', '@system-service @pkey'],
  ['SystemCallFilter', '~@privileged @resources'],
  // A refused call fails with EPERM instead of killing the process, so the probes of
  // optional features (io_uring, ...) that Node and glibc make fall back quietly.
  ['SystemCallErrorNumber', 'EPERM'],
  // systemd's default for services, stated: the Prometheus textfile (0644) must stay
  // readable by node_exporter; the tool creates its private files 0600 itself.
  ['UMask', '0022'],
];

/** Directives the service does without; README.md says why for each. */
export const REFUSED_DIRECTIVES = [
  'MemoryDenyWriteExecute',
  'PrivateUsers',
  'PrivateNetwork',
  'IPAddressDeny',
  'User',
  'DynamicUser',
  'AmbientCapabilities',
  'ProtectHome=yes',
  'ProtectProc',
  'RestrictFileSystems',
  'SocketBindDeny',
  'RestrictNetworkInterfaces',
  'ExecPaths',
  'MemoryMax',
] as const;

/**
 * What the drill service needs: `btrfs receive` recreating every file of a backup as it
 * was, then `btrfs subvolume delete`. Each was seen missing in a real receive under
 * systemd (README.md, "The drill service's sandbox"):
 * - CAP_SYS_ADMIN: trusted.* extended attributes, the UUID-tree search that finds an
 *   incremental's parent, `btrfs subvolume show` of the result.
 * - CAP_DAC_OVERRIDE: writing into directories and files that belong to other users
 *   (a 0700 home), and reading both trees to compare them.
 * - CAP_FOWNER: chmod, utimes and xattrs on files the service does not own.
 * - CAP_CHOWN: giving each file its owner.
 * - CAP_FSETID: keeping set-user-ID and set-group-ID bits (without it they vanish silently).
 * - CAP_MKNOD: device nodes (a chroot's or a container's /dev).
 * - CAP_SETFCAP: file capabilities (the security.capability attribute, e.g. of ping).
 * - CAP_SYS_CHROOT: `btrfs receive --chroot` confines itself to its target.
 */
export const DRILL_CAPABILITIES = [
  'CAP_SYS_ADMIN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_CHOWN',
  'CAP_FSETID',
  'CAP_MKNOD',
  'CAP_SETFCAP',
  'CAP_SYS_CHROOT',
] as const;

/**
 * The backup service's directives that would make `btrfs receive` fail or lose
 * something; the drill service goes without them (README.md says what it has instead).
 */
export const DRILL_DROPPED_DIRECTIVES = ['PrivateDevices', 'RestrictSUIDSGID'] as const;

/**
 * The drill service's sandbox: the backup service's, with the receive's capabilities,
 * chown(2) and chroot(2) allowed again, device nodes creatable but no device openable
 * beyond the pseudo devices, and set-user-ID bits allowed.
 */
export const DRILL_SANDBOX_DIRECTIVES: readonly (readonly [directive: string, value: string])[] = SANDBOX_DIRECTIVES.flatMap(
  ([directive, value]): (readonly [string, string])[] => {
    if (directive === 'CapabilityBoundingSet') return [[directive, DRILL_CAPABILITIES.join(' ')]];
    // PrivateDevices=yes takes CAP_MKNOD away. DevicePolicy=closed still keeps every device
    // but /dev/null and friends from being opened; the `m` entries allow only mknod(2).
    if (directive === 'PrivateDevices') {
      return [
        ['DevicePolicy', 'closed'],
        ['DeviceAllow', 'char-* m'],
        ['DeviceAllow', 'block-* m'],
      ];
    }
    // It refuses chmod(2) to set-user-ID or set-group-ID: a restored /usr/bin/sudo would fail the receive.
    if (directive === 'RestrictSUIDSGID') return [];
    // ~@privileged includes @chown and chroot(2) (`btrfs receive --chroot`); a later allow
    // line adds them back (systemd applies the lines in order).
    if (directive === 'SystemCallFilter' && value.startsWith('~'))
      return [
        [directive, value],
        [directive, '@chown chroot'],
      ];
    return [[directive, value]];
  },
);
