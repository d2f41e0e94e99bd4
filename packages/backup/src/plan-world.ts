import type { Btrfs } from '@org/btrfs-s3-btrfs';
import {
  type Config,
  type LocalSnapshot,
  type PlanOptions,
  planBackups,
  parseSnapshotName,
  type State,
  type SubvolumePlan,
} from '@org/btrfs-s3-core';
import type { S3Bucket } from '@org/btrfs-s3-store';
import { existsSync } from 'node:fs';

export interface PlanWorld {
  readonly localSnapshots: Map<string, LocalSnapshot[]>;
  readonly remoteManifestExists: Map<string, boolean>;
}

/**
 * What the planner needs to know about the world: our snapshots in the snapshot
 * directory (with their read-only flag) and whether each recorded parent's
 * manifest is still in the bucket.
 */
export interface PlanWorldDeps {
  readonly btrfs: Pick<Btrfs, 'listSubvolumes'>;
  readonly manifests: Pick<S3Bucket, 'objectExists'>;
}

export async function observePlanWorld(config: Config, state: State, deps: PlanWorldDeps): Promise<PlanWorld> {
  const localSnapshots = new Map<string, LocalSnapshot[]>();
  // No snapshot directory yet means no snapshots yet (a first run creates it).
  const subvolumes = existsSync(config.snapshots.base_dir) ? await deps.btrfs.listSubvolumes(config.snapshots.base_dir) : [];
  for (const subvolume of subvolumes) {
    const parsed = parseSnapshotName(subvolume.name);
    if (parsed === undefined) continue;
    const list = localSnapshots.get(parsed.subvolume) ?? [];
    list.push({ name: subvolume.name, readOnly: subvolume.readOnly });
    localSnapshots.set(parsed.subvolume, list);
  }
  const manifests = Object.values(state.subvolumes).map((entry) => entry.last_manifest);
  const remoteManifestExists = new Map(
    await Promise.all(manifests.map(async (key) => [key, await deps.manifests.objectExists(key)] as const)),
  );
  return { localSnapshots, remoteManifestExists };
}

/** Parents' manifests taken as present: for `noS3`, where the bucket is not asked (snapshots alone do not depend on them). */
export const ASSUME_MANIFESTS_PRESENT: PlanWorldDeps['manifests'] = { objectExists: async () => true };

/** The planner over what the world holds now: what a run would do per selected subvolume, and why. */
export async function planNow(
  config: Config,
  state: State,
  deps: PlanWorldDeps,
  now: Date,
  options: PlanOptions,
): Promise<SubvolumePlan[]> {
  const world = await observePlanWorld(config, state, deps);
  return planBackups({ config, state, now, ...world, options });
}
