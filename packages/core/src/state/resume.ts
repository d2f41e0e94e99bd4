import { readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import { errnoCode } from '../errors';
import { writeFileAtomic } from '../fs/atomic';
import { ManifestChunkSchema, ManifestPartSchema } from '../manifest/schema';

/**
 * What an interrupted backup leaves for the next run to continue from
 * (docs/failure-model.md, "Resume"): one file per subvolume beside the state file,
 * rewritten atomically after every completed chunk and part. Kept out of the state
 * file itself: it changes every few minutes during a multi-day full, and the state's
 * strict schema would make an older release treat it as corruption.
 *
 * Hashes are of the plaintext send stream: encrypted output is randomized, so a chunk
 * is proven by re-reading and hashing its slice of the stream, never by re-encoding.
 * The file is 0600 in the root-only state directory: those hashes are as private as
 * the manifest's sealed ones.
 */
export const RESUME_VERSION = 1;

const isoDate = v.pipe(v.string(), v.isoTimestamp('must be an ISO-8601 timestamp'));
const sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'));

export const ResumeChunkSchema = v.strictObject({
  ...ManifestChunkSchema.entries,
  /** SHA-256 of the chunk's slice of the send stream: what the next run's re-read must match. */
  plain_sha256: sha256Hex,
});

const OpenUploadSchema = v.strictObject({
  key: v.string(),
  upload_id: v.string(),
  parts: v.array(v.strictObject({ ...ManifestPartSchema.entries, etag: v.string() })),
});

export const ResumeRecordSchema = v.strictObject({
  version: v.literal(RESUME_VERSION),
  subvolume: v.string(),
  kind: v.picklist(['full', 'inc']),
  /** The snapshot being sent; a resume needs it unchanged (same UUID). */
  snapshot: v.strictObject({ name: v.string(), path: v.string(), uuid: v.string(), created_at: isoDate }),
  /** An incremental's parent: the plan must still choose it. */
  parent: v.nullable(v.strictObject({ snapshot: v.string(), manifest: v.string() })),
  /** The backup's directory in the bucket (`<prefix>/subvol/<name>/<kind>/<time>`). */
  backup_prefix: v.string(),
  /** The run's layout and encoding: a run with another cuts other chunks, so it starts afresh. */
  layout: v.strictObject({
    chunk_size: v.pipe(v.number(), v.integer(), v.minValue(1)),
    part_size: v.pipe(v.number(), v.integer(), v.minValue(1)),
    compression: v.nullable(v.number()),
    recipients: v.array(v.string()),
  }),
  /** Completed chunk objects, in stream order from the first. */
  chunks: v.array(ResumeChunkSchema),
  /** The next chunk's open multipart upload and its acknowledged parts (unencoded chunks only). */
  open_upload: v.nullable(OpenUploadSchema),
  started_at: isoDate,
  /** Last progress: the record expires `s3.resume_max_age_hours` after it. */
  updated_at: isoDate,
});

/**
 * What changes after every part, in a small file of its own (`<subvolume>.open.json`):
 * the record itself, with every completed chunk's parts, is rewritten only when a chunk
 * completes, so a multi-terabyte full does not rewrite megabytes after every part.
 */
export const OpenUploadRecordSchema = v.strictObject({
  version: v.literal(RESUME_VERSION),
  backup_prefix: v.string(),
  /** The chunk it is the upload of: how many chunks the record held complete when it was written. */
  chunk_index: v.pipe(v.number(), v.integer(), v.minValue(0)),
  open_upload: OpenUploadSchema,
  updated_at: isoDate,
});

export type ResumeRecord = v.InferOutput<typeof ResumeRecordSchema>;
export type OpenUploadRecord = v.InferOutput<typeof OpenUploadRecordSchema>;
export type ResumeChunk = v.InferOutput<typeof ResumeChunkSchema>;

/** `<state dir>/resume/<subvolume>.json`. */
export function resumeRecordPath(statePath: string, subvolume: string): string {
  return join(dirname(statePath), 'resume', `${subvolume}.json`);
}

/** `<state dir>/resume/<subvolume>.open.json`. */
export function openUploadRecordPath(statePath: string, subvolume: string): string {
  return join(dirname(statePath), 'resume', `${subvolume}.open.json`);
}

/** A record read back: `problem` when the file exists but cannot be used (the caller starts afresh and says why). */
export type ResumeRead = { readonly record: ResumeRecord } | { readonly problem: string } | undefined;

export async function readResumeRecord(statePath: string, subvolume: string): Promise<ResumeRead> {
  const path = resumeRecordPath(statePath, subvolume);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    return { problem: `cannot read ${path}: ${errnoCode(error) ?? String(error)}` };
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { problem: `${path} is not JSON` };
  }
  const result = v.safeParse(ResumeRecordSchema, document);
  if (!result.success) {
    const issue = result.issues[0];
    return { problem: `${path} is not a resume record (${v.getDotPath(issue) ?? '(top level)'}: ${issue.message})` };
  }
  if (result.output.subvolume !== subvolume) return { problem: `${path} is the record of ${result.output.subvolume}` };
  return { record: withOpenUpload(result.output, await readOpenUploadRecord(statePath, subvolume)) };
}

/** The open upload file, when it parses; a damaged one only costs the open chunk, which then starts over. */
async function readOpenUploadRecord(statePath: string, subvolume: string): Promise<OpenUploadRecord | undefined> {
  try {
    const result = v.safeParse(OpenUploadRecordSchema, JSON.parse(await readFile(openUploadRecordPath(statePath, subvolume), 'utf8')));
    return result.success ? result.output : undefined;
  } catch {
    return undefined;
  }
}

/** The record with the newer open upload of the chunk after its completed ones, if the open file has one. */
function withOpenUpload(record: ResumeRecord, open: OpenUploadRecord | undefined): ResumeRecord {
  if (open === undefined || open.backup_prefix !== record.backup_prefix || open.chunk_index !== record.chunks.length) return record;
  if (Date.parse(open.updated_at) < Date.parse(record.updated_at)) return record;
  return { ...record, open_upload: open.open_upload, updated_at: open.updated_at };
}

export async function writeResumeRecord(statePath: string, record: ResumeRecord): Promise<void> {
  await writeFileAtomic(resumeRecordPath(statePath, record.subvolume), `${JSON.stringify(v.parse(ResumeRecordSchema, record))}\n`);
}

/** Only after the record itself exists: alone, an open upload names no snapshot to resume from. */
export async function writeOpenUploadRecord(statePath: string, subvolume: string, open: OpenUploadRecord): Promise<void> {
  await writeFileAtomic(openUploadRecordPath(statePath, subvolume), `${JSON.stringify(v.parse(OpenUploadRecordSchema, open))}\n`);
}

export async function deleteResumeRecord(statePath: string, subvolume: string): Promise<void> {
  // The record first: an open upload file left alone names no backup to resume.
  for (const path of [resumeRecordPath(statePath, subvolume), openUploadRecordPath(statePath, subvolume)]) {
    try {
      await unlink(path);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
}

/** Within `s3.resume_max_age_hours` of its last progress: its snapshot, chunks and open upload are kept for the next run. */
export function isResumeLive(record: ResumeRecord, now: Date, maxAgeHours: number): boolean {
  return now.getTime() - Date.parse(record.updated_at) <= maxAgeHours * 3600 * 1000;
}

/** Bytes of the send stream a resume would not upload again: its completed chunks and the open upload's parts. */
export function resumedBytes(record: ResumeRecord): number {
  const chunks = record.chunks.reduce((sum, chunk) => sum + chunk.plain_size, 0);
  return chunks + (record.open_upload?.parts.reduce((sum, part) => sum + part.size, 0) ?? 0);
}

/** The live records of these subvolumes (unusable or expired ones are left out): what cleanup and prune must keep. */
export async function liveResumeRecords(
  statePath: string,
  subvolumes: readonly string[],
  now: Date,
  maxAgeHours: number,
): Promise<ResumeRecord[]> {
  const records: ResumeRecord[] = [];
  for (const subvolume of subvolumes) {
    const read = await readResumeRecord(statePath, subvolume);
    if (read !== undefined && 'record' in read && isResumeLive(read.record, now, maxAgeHours)) records.push(read.record);
  }
  return records;
}
