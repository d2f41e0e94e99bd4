/**
 * @org/btrfs-s3-restore: restores a btrfs-to-s3 backup into a new Btrfs subvolume,
 * verified: `runRestore` resolves the chain, runs a preflight, thaws archived chunks,
 * streams verified bytes into `btrfs receive` and checks the result; `planRestore`
 * stops after the preflight and prices the thaw; `runDrill` proves backups restore
 * (a full restore into scratch, deleted after, or sampled archived chunks). Chain resolution itself is
 * `resolveChain` in @org/btrfs-s3-core.
 */
export { runRestore, planRestore } from './run-restore';
export type { RestoreDeps, RestoreOptions, RestoreSourceOptions } from './run-restore';
export { runRestoreToStream } from './stream-restore';
export type { RestoreStreamOptions } from './stream-restore';
export { RestoreResultSchema, RestorePlanSchema, RestoreStreamResultSchema } from './result';
export type { RestoreResult, RestorePlan, RestoreStreamResult } from './result';
export { PreflightError } from './preflight';
export type { PreflightReport } from './preflight';
export { RestoreInputError, RestoreVerificationError, SubvolumeNameError } from './errors';
export { assertRestoreTarget, RestoreTargetError } from './target';
export { runDrill, DrillFailedError } from './drill/run-drill';
export type { DrillOptions } from './drill/run-drill';
export { DrillResultSchema, DrilledSubvolumeSchema } from './drill/schemas';
export type { DrillResult, DrilledSubvolume } from './drill/schemas';
export { drillRecordPaths } from './drill/record';
export { compareTrees } from './verify';
export type { CompareOptions, TreeComparison, TreeDifference, VerifyMode } from './verify';
