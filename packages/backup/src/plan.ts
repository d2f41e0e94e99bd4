import type { S3Client } from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { type Config, type PlanOptions, readState, selectSubvolumes, withLegacyStatePaths } from '@org/btrfs-s3-core';
import { S3Bucket, withS3Client } from '@org/btrfs-s3-store';
import { planNow } from './plan-world';
import { pendingResume } from './resume';
import { type PlanResult, toPlanEntry } from './schemas';

export interface PlanBackupOptions extends PlanOptions {
  readonly config: Config;
  readonly deps?: { readonly btrfs?: Btrfs; readonly client?: S3Client; readonly now?: () => Date };
}

/**
 * What a backup run would do now for each selected subvolume, and why; changes
 * nothing. Reads the state file, lists local snapshots and checks that each
 * recorded parent's manifest is still in the bucket.
 */
export async function planBackup(options: PlanBackupOptions): Promise<PlanResult> {
  const { config, deps = {} } = options;
  selectSubvolumes(config, options.subvolumes ?? []); // an unknown name fails before any read or request
  const state = await readState((await withLegacyStatePaths(config)).global.state_path);
  return withS3Client(config.s3, deps.client, async (client) => {
    const btrfs = deps.btrfs ?? new Btrfs(spawnProcessRunner);
    const now = (deps.now ?? (() => new Date()))();
    const selection = { once: options.once ?? false, full: options.full ?? false, subvolumes: options.subvolumes ?? [] };
    const plan = await planNow(config, state, { btrfs, manifests: new S3Bucket(client, config.s3) }, now, selection);
    const entries = [];
    for (const entry of plan.map(toPlanEntry)) {
      const resume = await pendingResume(config, entry.subvolume, now);
      entries.push(resume === null ? entry : { ...entry, resume });
    }
    return { now: now.toISOString(), subvolumes: entries };
  });
}
