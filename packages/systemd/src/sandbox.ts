/**
 * The service's sandbox. Every directive here was checked against what a backup
 * does: btrfs-progs snapshot/show/delete/send (ioctls that need CAP_SYS_ADMIN), Node
 * (V8's JIT), HTTPS to S3, and the files named in the config. README.md explains
 * each one, and each directive in REFUSED_DIRECTIVES, in a table a test keeps in step.
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
