/** Restore for btrfs-to-s3: from S3 manifests back into a new Btrfs subvolume, verified. */
export { assertRestoreTarget, RestoreTargetError } from './target';
