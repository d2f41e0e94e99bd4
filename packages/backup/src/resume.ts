import {
  backupPrefix,
  compactTimestamp,
  type Config,
  deleteResumeRecord,
  isResumeLive,
  manifestKey,
  parseSnapshotName,
  parseWriterMarker,
  readResumeRecord,
  type ResumeRecord,
  resumedBytes,
  subvolumePrefix,
  writerMarkerKey,
} from '@org/btrfs-s3-core';
import type { UploadResume } from '@org/btrfs-s3-store';
import { join } from 'node:path';
import type { BackupContext } from './context';
import type { RunnablePlan } from './backup-subvolume';
import type { ChunkLayout } from './resume-recorder';
import type { PendingResume } from './schemas';

/** An interrupted backup this run continues: its record, checked against the plan, the snapshot and the bucket. */
export interface Resumption {
  readonly record: ResumeRecord;
  readonly snapshot: { readonly name: string; readonly path: string; readonly createdAt: Date };
}

/**
 * The interrupted backup of `plan.subvolume` to continue, or undefined to start afresh.
 * A record that cannot be used is discarded here, with one line saying why: it names
 * another plan (kind, parent), another layout or encoding, a snapshot that is gone or
 * changed, chunks the bucket no longer holds, or it is older than `s3.resume_max_age_hours`.
 * `noResume` (backup --no-resume) discards any record.
 */
export async function findResumption(
  context: BackupContext,
  plan: RunnablePlan,
  layout: ChunkLayout,
  noResume: boolean,
): Promise<Resumption | undefined> {
  const { config, logger } = context;
  const read = await readResumeRecord(config.global.state_path, plan.subvolume);
  if (read === undefined) return undefined;
  if ('problem' in read) {
    logger.warn(`${plan.subvolume}: ignoring the resume record: ${read.problem}`);
    await deleteResumeRecord(config.global.state_path, plan.subvolume);
    return undefined;
  }
  const { record } = read;
  const why = noResume ? 'backup --no-resume' : await unusable(context, plan, layout, record);
  if (why !== undefined) {
    await discardResumption(context, record, why);
    return undefined;
  }
  const snapshot = { name: record.snapshot.name, path: record.snapshot.path, createdAt: new Date(record.snapshot.created_at) };
  logger.info(
    `${plan.subvolume}: resuming the interrupted ${plan.action} backup of snapshot ${snapshot.name}: ${record.chunks.length} chunk(s) and ${record.open_upload?.parts.length ?? 0} part(s), ${resumedBytes(record)} bytes, are in the bucket; re-reading them to prove they match`,
  );
  return { record, snapshot };
}

async function unusable(
  context: BackupContext,
  plan: RunnablePlan,
  layout: ChunkLayout,
  record: ResumeRecord,
): Promise<string | undefined> {
  const { config } = context;
  if (!isResumeLive(record, context.now(), config.s3.resume_max_age_hours))
    return `its last progress (${record.updated_at}) is older than s3.resume_max_age_hours (${config.s3.resume_max_age_hours} h)`;
  const kind = plan.action === 'full' ? 'full' : 'inc';
  const parent = plan.action === 'incremental' ? { snapshot: plan.parentSnapshot, manifest: plan.parentManifest } : null;
  if (record.kind !== kind || record.parent?.snapshot !== parent?.snapshot || record.parent?.manifest !== parent?.manifest)
    return `this run plans ${plan.action === 'full' ? 'a full' : `an incremental on ${plan.parentSnapshot}`} instead`;
  const changed = changedLayout(record.layout, layout);
  if (changed !== undefined) return `${changed} changed since`;
  if (!isOurSnapshot(config, record)) return `${record.snapshot.path} is not one of our snapshots in snapshots.base_dir`;
  const expected = backupPrefix(config.s3.prefix, plan.subvolume, kind, compactTimestamp(new Date(record.snapshot.created_at)));
  if (record.backup_prefix !== expected) return `its backup directory ${record.backup_prefix} is not under s3.prefix ${config.s3.prefix}`;
  try {
    if ((await context.btrfs.showSubvolume(record.snapshot.path)).uuid !== record.snapshot.uuid)
      return `its snapshot ${record.snapshot.path} was replaced`;
  } catch {
    return `its snapshot ${record.snapshot.path} is gone`;
  }
  return bucketProblem(context, record);
}

/** What the bucket must still hold: our writer marker, no manifest yet, and every recorded chunk at its size. */
async function bucketProblem(context: BackupContext, record: ResumeRecord): Promise<string | undefined> {
  const dir = record.backup_prefix;
  const stored = new Map((await context.bucket.listObjects(`${dir}/`)).map((object) => [object.key, object.size]));
  if (stored.has(manifestKey(dir))) return `${dir} is already published`;
  const marker = await context.bucket.readTextIfExists(writerMarkerKey(dir));
  if (marker === undefined) return `${writerMarkerKey(dir)} is gone`;
  if (parseWriterMarker(writerMarkerKey(dir), marker).writer.id !== context.writer.id) return `${dir} is another writer's`;
  for (const chunk of record.chunks) {
    const size = stored.get(chunk.key);
    if (size === undefined) return `chunk ${chunk.key} is missing from the bucket`;
    if (size !== chunk.size) return `chunk ${chunk.key} holds ${size} bytes, not the ${chunk.size} recorded`;
  }
  return undefined;
}

/** The record's snapshot is one this tool names and keeps: `<snapshots.base_dir>/<subvolume>__<time>__<kind>`. */
function isOurSnapshot(config: Config, record: ResumeRecord): boolean {
  const { name, path } = record.snapshot;
  const parsed = parseSnapshotName(name);
  return parsed?.subvolume === record.subvolume && parsed.kind === record.kind && path === join(config.snapshots.base_dir, name);
}

function changedLayout(recorded: ResumeRecord['layout'], layout: ChunkLayout): string | undefined {
  if (recorded.chunk_size !== layout.chunk_size) return 's3.chunk_size_bytes';
  if (recorded.part_size !== layout.part_size) return 's3.part_size_bytes';
  if (recorded.compression !== layout.compression) return 's3.compression';
  const same = recorded.recipients.length === layout.recipients.length && recorded.recipients.every((r) => layout.recipients.includes(r));
  return same ? undefined : 'encryption.recipients';
}

/**
 * Gives up an interrupted backup, saying why in one line: aborts its open upload and
 * deletes its snapshot and record. Its completed chunks stay, as any failed run's, until
 * prune's grace period has passed. A snapshot whose backup was published is never deleted.
 */
export async function discardResumption(context: BackupContext, record: ResumeRecord, why: string): Promise<void> {
  const { config, logger, bucket } = context;
  logger.warn(
    `${record.subvolume}: not resuming the interrupted ${record.kind} backup of ${record.snapshot.name}: ${why}; starting afresh`,
  );
  const open = record.open_upload;
  try {
    // Only under the subvolume's own keys, as the stale-upload cleanup would.
    const ours = `${subvolumePrefix(config.s3.prefix, record.subvolume)}/`;
    if (open !== null && open.key.startsWith(ours) && open.key.startsWith(`${record.backup_prefix}/`))
      await bucket.abortStaleMultipartUploads(open.key, (upload) => upload.uploadId === open.upload_id);
    const published = (await bucket.readTextIfExists(manifestKey(record.backup_prefix))) !== undefined;
    // Only ever a snapshot this tool made: a damaged or edited record must not name anything else to delete.
    if (!published && isOurSnapshot(config, record)) await context.btrfs.deleteSubvolume(record.snapshot.path).catch(() => undefined);
  } catch (error) {
    logger.warn(
      `${record.subvolume}: cleaning up after the interrupted backup failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  await deleteResumeRecord(config.global.state_path, record.subvolume);
}

/** The record's chunks and open upload as the uploader takes them. */
export function uploadResume(record: ResumeRecord, onResumeNotice: (message: string) => void): UploadResume {
  const open = record.open_upload;
  return {
    chunks: record.chunks.map((chunk) => ({
      key: chunk.key,
      size: chunk.size,
      sha256: chunk.sha256,
      plainSize: chunk.plain_size,
      plainSha256: chunk.plain_sha256,
      etag: chunk.etag,
      parts: chunk.parts,
    })),
    ...(open === null ? {} : { openUpload: { key: open.key, uploadId: open.upload_id, parts: open.parts } }),
    onResumeNotice,
  };
}

/** The live resume record of `subvolume` as status and plan show it; null when there is none. */
export async function pendingResume(config: Config, subvolume: string, now: Date): Promise<PendingResume | null> {
  const read = await readResumeRecord(config.global.state_path, subvolume);
  if (read === undefined || 'problem' in read || !isResumeLive(read.record, now, config.s3.resume_max_age_hours)) return null;
  const { record } = read;
  return {
    kind: record.kind,
    snapshot: record.snapshot.name,
    bytesDone: resumedBytes(record),
    chunksDone: record.chunks.length,
    partsDone: record.open_upload?.parts.length ?? 0,
    startedAt: record.started_at,
    updatedAt: record.updated_at,
    expiresAt: new Date(Date.parse(record.updated_at) + config.s3.resume_max_age_hours * 3600 * 1000).toISOString(),
  };
}
