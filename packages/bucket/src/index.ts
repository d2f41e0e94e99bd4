/**
 * @org/btrfs-s3-bucket: what the bucket holds and whether it is intact, without a
 * restore. `runList` groups each subvolume's objects into generations, `runVerify`
 * checks every chain current.json reaches (optionally every byte), `runPrune`
 * applies remote retention. Each takes the config and resolves to a typed report
 * with a valibot schema; none needs the CLI.
 */
export { runList, UnknownListedSubvolumeError } from './list';
export type { ListOptions } from './list';
export { runVerify, DamagedBackupError, sampledChunks, verifyChain } from './verify';
export type { ChainCheckContext, VerifyOptions, VerifyReads } from './verify';
export { runPrune, pruneHeld, PruneFailedError, describeEntry, earlyDeletionWarning } from './prune';
export type { HeldPruneOptions, PruneOptions } from './prune';
export type { BucketDeps, BucketOptions } from './context';
export { findRestorePoint, NoRestorePointError } from './restore-point';
export type { RestorePointOptions } from './restore-point';
export {
  ListResultSchema,
  ListedSubvolumeSchema,
  ListedGenerationSchema,
  ListedBackupSchema,
  IncompleteBackupSchema,
  VerifyReportSchema,
  VerifySubvolumeSchema,
  VerifyProblemSchema,
  PruneResultSchema,
  PruneSubvolumeSchema,
} from './schemas';
export type {
  ListResult,
  ListedSubvolume,
  ListedBackup,
  VerifyReport,
  VerifySubvolume,
  VerifyProblem,
  PruneResult,
  PruneSubvolume,
} from './schemas';
