/** Btrfs adapters for btrfs-to-s3, over btrfs-progs through an injectable process runner. */
export { Btrfs, BtrfsError } from './btrfs';
export { spawnProcessRunner, ProcessError } from './process-runner';
export type { ProcessRunner, ProcessResult } from './process-runner';
