/**
 * @org/btrfs-s3-restore: restores a btrfs-to-s3 backup into a new Btrfs subvolume,
 * verified: `runRestore` resolves the chain, thaws archived chunks, streams verified
 * bytes into `btrfs receive` and checks the result. Chain resolution itself is
 * `resolveChain` in @org/btrfs-s3-core.
 */
export { runRestore } from './run-restore';
export type { RestoreDeps, RestoreOptions } from './run-restore';
export { RestoreResultSchema } from './result';
export type { RestoreResult } from './result';
export { RestoreVerificationError, SubvolumeNameError } from './errors';
export { assertRestoreTarget, RestoreTargetError } from './target';
export { compareTrees } from './verify';
export type { CompareOptions, TreeComparison, TreeDifference, VerifyMode } from './verify';
