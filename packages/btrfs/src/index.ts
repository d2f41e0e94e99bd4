/** Btrfs adapters for btrfs-to-s3, over btrfs-progs through an injectable process runner. */
export { Btrfs } from './btrfs';
export type { SendOptions } from './btrfs';
export { BtrfsError, NotBtrfsError } from './errors';
export { ReceiveStream } from './receive-stream';
export type { Callback, ReceiveContext } from './receive-stream';
export type { SubvolumeInfo } from './subvolume-info';
export { BTRFS_SUPER_MAGIC, SUBVOLUME_ROOT_INODE, nodeDirectoryProbe } from './directory-probe';
export type { DirectoryProbe, ChildDirectory } from './directory-probe';
// The ProcessRunner interface and ProcessError live in @org/btrfs-s3-core; this is the real runner.
export { spawnProcessRunner, STDERR_LIMIT } from './process-runner';
export { SnapshotManager } from './snapshot-manager';
export type { CreatedSnapshot } from './snapshot-manager';
