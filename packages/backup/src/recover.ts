import {
  type Config,
  liveResumeRecords,
  type Manifest,
  parseManifest,
  parsePointer,
  pointerKey,
  type State,
  subvolumeName,
  subvolumePrefix,
  type SubvolumeState,
} from '@org/btrfs-s3-core';
import { join } from 'node:path';
import type { BackupContext } from './context';
import type { PrefixAtStart } from './own-prefix';

/**
 * What a run that died (kill -9, power cut) can leave behind, put right before
 * planning, under the lock:
 *
 * - Incomplete multipart uploads. Under our configured subvolumes' keys they can
 *   only be a dead run's (the lock keeps our other runs out), so they are aborted
 *   whatever their age; elsewhere under the prefix only those older than
 *   `s3.stale_upload_age_hours` (someone else's, or a subvolume no longer configured).
 * - A `current.json` newer than local state (the run died between the two). The
 *   pointer is what readers see, so state adopts it when its snapshot is here.
 */
export async function recoverFromDeadRuns(
  context: BackupContext,
  state: State,
  /** Other writers' unpublished runs and the open uploads under the prefix, as assertOwnPrefix just listed them. */
  listed: PrefixAtStart,
): Promise<{ stateChanged: boolean }> {
  await abortDeadUploads(context, listed);
  let stateChanged = false;
  for (const path of context.config.subvolumes.paths)
    stateChanged = (await adoptPublishedBackup(context, state, subvolumeName(path))) || stateChanged;
  return { stateChanged };
}

async function abortDeadUploads(context: BackupContext, listed: PrefixAtStart): Promise<void> {
  const { config, logger } = context;
  const ours = config.subvolumes.paths.map((path) => `${subvolumePrefix(config.s3.prefix, subvolumeName(path))}/`);
  const isOurs = (key: string) => ours.some((prefix) => key.startsWith(prefix));
  const cutoff = context.now().getTime() - config.s3.stale_upload_age_hours * 3600 * 1000;
  // One listing of the prefix: ours are a dead run's whatever their age (the lock keeps
  // our other runs out); anyone else's only once older than the cutoff.
  // Another host's run in progress (its writer marker) is never ours to abort, however old:
  // a first full over a slow uplink keeps one chunk's upload open for days.
  const foreign = listed.foreign.map((run) => `${run.dir}/`);
  const isForeign = (key: string) => foreign.some((dir) => key.startsWith(dir));
  // The open upload of an interrupted backup that the next run resumes (docs/failure-model.md, "Resume").
  const subvolumes = config.subvolumes.paths.map(subvolumeName);
  const resumable = new Set(
    (await liveResumeRecords(config.global.state_path, subvolumes, context.now(), config.s3.resume_max_age_hours)).flatMap((record) =>
      record.open_upload === null ? [] : [record.open_upload.upload_id],
    ),
  );
  const aborted = await context.bucket.abortStaleMultipartUploads(
    `${config.s3.prefix}/`,
    (upload) => !isForeign(upload.key) && !resumable.has(upload.uploadId) && (isOurs(upload.key) || upload.initiated.getTime() < cutoff),
    listed.uploads,
  );
  for (const upload of aborted) {
    logger.info(
      `aborted ${isOurs(upload.key) ? "an interrupted run's" : 'a stale'} multipart upload of ${upload.key} (started ${upload.initiated.toISOString()})`,
    );
  }
}

/** Returns whether state changed. */
async function adoptPublishedBackup(context: BackupContext, state: State, subvolume: string): Promise<boolean> {
  const { config, logger } = context;
  const key = pointerKey(config.s3.prefix, subvolume);
  // Read moments ago by assertOwnPrefix, under this run's lock; read here only if not.
  const known = context.pointerTexts.get(subvolume);
  const pointerText = known === undefined ? await context.bucket.readTextIfExists(key) : (known ?? undefined);
  const recorded = state.subvolumes[subvolume];
  if (pointerText === undefined) return false;
  const pointer = parsePointer(key, pointerText);
  if (pointer.manifest_key === recorded?.last_manifest) return false;
  const manifestText = await context.bucket.readTextIfExists(pointer.manifest_key);
  if (manifestText === undefined) return false; // the planner reports a pointer without its manifest
  const manifest = parseManifest(pointer.manifest_key, manifestText);
  if (!(await isLocalSnapshot(context, config, manifest.snapshot.name, manifest.snapshot.uuid))) return false;
  const lastFullAt = await fullCreatedAt(context, manifest, recorded);
  if (lastFullAt === undefined) {
    // An incremental on a broken chain cannot be restored; building on it would only
    // lengthen the broken chain. Left unadopted, the planner makes the next backup a
    // full (or an incremental on what state still records, whose chain is whole).
    logger.warn(`${subvolume}: current.json names ${pointer.manifest_key}, whose chain does not reach a full; not building on it`);
    return false;
  }
  state.subvolumes[subvolume] = {
    last_snapshot: manifest.snapshot.name,
    last_manifest: pointer.manifest_key,
    last_kind: manifest.kind,
    last_backup_at: manifest.created_at,
    last_full_at: lastFullAt,
  };
  logger.warn(
    `${subvolume}: local state did not record the published backup ${pointer.manifest_key} (a run was interrupted after publishing it); adopted it`,
  );
  return true;
}

/**
 * When the chain ending in `manifest` started: its full's time, which schedules the
 * next full. Undefined when the chain does not reach a full (a parent is missing).
 */
async function fullCreatedAt(
  context: BackupContext,
  manifest: Manifest,
  recorded: SubvolumeState | undefined,
): Promise<string | undefined> {
  let link = manifest;
  for (let hops = 0; link.kind === 'inc' && link.parent_manifest !== null && hops < 10_000; hops += 1) {
    if (recorded !== undefined && link.parent_manifest === recorded.last_manifest) return recorded.last_full_at;
    const parentText = await context.bucket.readTextIfExists(link.parent_manifest);
    if (parentText === undefined) return undefined;
    link = parseManifest(link.parent_manifest, parentText);
  }
  return link.kind === 'full' ? link.created_at : undefined;
}

async function isLocalSnapshot(context: BackupContext, config: Config, name: string, uuid: string): Promise<boolean> {
  try {
    return (await context.btrfs.showSubvolume(join(config.snapshots.base_dir, name))).uuid === uuid;
  } catch {
    return false; // not here (deleted, or another host's): nothing to adopt
  }
}
