import { BtrfsToS3Error, ExitCode, type RemoteBackup, type RemoteConfig, restorablePoints, silentLogger } from '@org/btrfs-s3-core';
import type { S3Bucket } from '@org/btrfs-s3-store';
import type { BucketContext } from './context';
import { listSubvolumeObjects, readInventory } from './inventory';

/** No backup of the subvolume was made at or before the time asked for (or none can be restored at all). */
export class NoRestorePointError extends BtrfsToS3Error {
  constructor(subvolume: string, at: Date, oldest: RemoteBackup | undefined) {
    const hint =
      oldest === undefined
        ? 'the bucket holds no restorable backup of it'
        : `the oldest restorable one is from ${oldest.createdAt.toISOString()}`;
    super(`--at ${at.toISOString()}: no backup of "${subvolume}" at or before that time; ${hint} (list shows them all)`, {
      exitCode: ExitCode.Usage,
    });
  }
}

export interface RestorePointOptions {
  readonly config: RemoteConfig;
  /** The caller's handle (a restore's); its signal applies. */
  readonly bucket: S3Bucket;
  readonly subvolume: string;
  readonly at: Date;
}

/**
 * The backup a restore "as of `at`" starts from: the newest backup of the subvolume
 * made at or before `at` among those still in the bucket whose chain reaches a full
 * (what `list` shows as restorable points). Reads the listing and the manifests only.
 */
export async function findRestorePoint(options: RestorePointOptions): Promise<RemoteBackup> {
  const context: BucketContext = {
    config: options.config,
    logger: silentLogger(),
    bucket: options.bucket,
    now: () => new Date(),
    signal: new AbortController().signal,
  };
  const objects = (await listSubvolumeObjects(context, [options.subvolume])).get(options.subvolume) ?? [];
  const points = restorablePoints(await readInventory(context, options.subvolume, objects));
  const chosen = points.filter((point) => point.createdAt.getTime() <= options.at.getTime()).pop();
  if (chosen === undefined) throw new NoRestorePointError(options.subvolume, options.at, points[0]);
  return chosen;
}
