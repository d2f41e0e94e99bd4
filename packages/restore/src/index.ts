/** Restore for btrfs-to-s3: chain resolution, target checks and verification of a restored tree. */
export { assertRestoreTarget, RestoreTargetError } from './target';
export { resolveChain, resolveStartKey, ChainError } from './chain';
export type { ChainLink, ManifestSource } from './chain';
export { compareTrees } from './verify';
export type { CompareOptions, TreeComparison, TreeDifference, VerifyMode } from './verify';
export { parseGetfattr, readXattrs } from './xattrs';
export type { CommandRunner, XattrMap } from './xattrs';
