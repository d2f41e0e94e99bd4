import type { RemoteRetentionPlan } from '@org/btrfs-s3-core';
import { formatBytes } from '@org/btrfs-s3-metrics';
import type { ObjectVersion } from '@org/btrfs-s3-store';
import type { BucketContext } from './context';
import type { PruneSubvolume } from './schemas';

/** What a prune deleted in a versioned bucket, and what Object Lock kept. */
export interface VersionedDeletion {
  readonly deletedObjects: number;
  readonly deletedBytes: number;
  readonly locked: PruneSubvolume['locked'];
}

export const NOTHING_LOCKED: PruneSubvolume['locked'] = { versions: 0, bytes: 0, soonestRetainUntil: null };

const MANIFEST = '/manifest.json';

/**
 * Deletes what the plan deletes in a versioned bucket for good: every version and delete
 * marker of each planned key (a plain DeleteObject would only add a marker, and the data
 * would stay stored and billed). Manifests go first, as in an unversioned bucket; a
 * backup whose manifest Object Lock still retains keeps its other objects too, so no
 * manifest is ever left naming chunks that are gone (a manifest is written after its
 * chunks, so it unlocks last); only their delete markers go, which hide without holding
 * anything. What Object Lock kept is reported, with the date the
 * first of it unlocks: a later prune deletes it then. Any other refusal throws.
 */
export async function deleteAllVersions(
  context: BucketContext,
  plan: RemoteRetentionPlan,
  versions: readonly ObjectVersion[],
): Promise<VersionedDeletion> {
  const { bucket } = context;
  const of = (keys: readonly string[]) => {
    const wanted = new Set(keys);
    return versions.filter((version) => wanted.has(version.key));
  };
  const manifests = plan.keys.filter((key) => key.endsWith(MANIFEST));
  const first = await bucket.deleteVersions(of(manifests));
  const lockedDirs = first.locked.map((version) => version.key.slice(0, -MANIFEST.length));
  const inLockedDir = (key: string) => lockedDirs.some((dir) => key.startsWith(`${dir}/`));
  const rest = plan.keys.filter((key) => !key.endsWith(MANIFEST) && !inLockedDir(key));
  const skipped = plan.keys.filter((key) => !key.endsWith(MANIFEST) && inLockedDir(key));
  // A delete marker holds nothing and only hides what is kept: it goes even where the data stays.
  const second = await bucket.deleteVersions([...of(rest), ...of(skipped).filter((version) => version.deleteMarker)]);

  // Version ids are unique per key only (every object written before versioning is `null`).
  const id = (version: { key: string; versionId: string }) => `${version.key}\u0000${version.versionId}`;
  const refused = [...first.locked, ...second.locked];
  const refusedIds = new Set(refused.map(id));
  const left = [...versions.filter((version) => refusedIds.has(id(version))), ...of(skipped).filter((version) => !version.deleteMarker)];
  const leftKeys = new Set(left.map((version) => version.key));
  const gone = of([...manifests, ...rest]).filter((version) => !refusedIds.has(id(version)));
  const soonest = refused.reduce<Date | undefined>(
    (min, version) => (min === undefined || version.retainUntil < min ? version.retainUntil : min),
    undefined,
  );
  const locked = {
    versions: left.length,
    bytes: left.reduce((sum, version) => sum + version.size, 0),
    soonestRetainUntil: soonest?.toISOString() ?? null,
  };
  if (locked.versions > 0)
    context.logger.info(
      `${plan.subvolume}: Object Lock keeps ${locked.versions} version(s) (${formatBytes(locked.bytes)}) of what prune deletes${soonest === undefined ? '' : `; the first unlocks ${soonest.toISOString()}`}; a prune after that deletes them`,
    );
  return {
    deletedObjects: plan.keys.filter((key) => !leftKeys.has(key)).length,
    deletedBytes: gone.reduce((sum, version) => sum + version.size, 0),
    locked,
  };
}
