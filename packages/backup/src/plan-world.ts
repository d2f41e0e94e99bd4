import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import {
  type Config,
  type LocalSnapshot,
  type PlanOptions,
  planBackups,
  parseSnapshotName,
  readState,
  selectSubvolumes,
  type State,
} from '@org/btrfs-s3-core';
import { S3Bucket, withS3Client } from '@org/btrfs-s3-store';
import type { S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { type PlanResult, toPlanEntry } from './schemas';

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
  const state = await readState(config.global.state_path);
  return withS3Client(config.s3, deps.client, async (client) => {
    const world = await observePlanWorld(config, state, {
      btrfs: deps.btrfs ?? new Btrfs(spawnProcessRunner),
      manifests: new S3Bucket(client, config.s3),
    });
    const now = (deps.now ?? (() => new Date()))();
    const plan = planBackups({
      config,
      state,
      now,
      ...world,
      options: { once: options.once, full: options.full, subvolumes: options.subvolumes ?? [] },
    });
    return { now: now.toISOString(), subvolumes: plan.map(toPlanEntry) };
  });
}
