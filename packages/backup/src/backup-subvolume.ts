import { encodeChunks, sealText } from '@org/btrfs-s3-codec';
import {
  backupPrefix,
  chunkKey,
  compactTimestamp,
  type Config,
  type ManifestDocument,
  type ManifestPrivate,
  manifestKey,
  pointerKey,
  serializeWriterMarker,
  writerMarkerKey,
  serializeManifest,
  serializePointer,
  type SubvolumePlan,
  type SubvolumeState,
} from '@org/btrfs-s3-core';
import { ChunkUploadError, describeS3Error, ResumeMismatchError, uploadOptionsFromConfig } from '@org/btrfs-s3-store';
import { join } from 'node:path';
import type { BackupContext } from './context';
import { discardResumption, findResumption, type Resumption, uploadResume } from './resume';
import { type ChunkLayout, ResumeRecorder } from './resume-recorder';
import { lastStreamBytes } from './run-record';
import type { RunMetrics } from './schemas';
import { UploadProgressReporter } from './upload-progress';

export type RunnablePlan = SubvolumePlan & { readonly action: 'full' | 'incremental' };

export interface PublishedBackup {
  readonly state: SubvolumeState;
  readonly metrics: RunMetrics;
  readonly manifestKey: string;
}

/**
 * One subvolume's backup: snapshot, send, chunked upload, then publish the
 * manifest and only then `current.json`. Until the pointer is written nothing a
 * reader can see has changed.
 *
 * Resume (docs/failure-model.md): while it uploads, a resume record names every
 * completed chunk and the open upload's parts. A run that fails or is stopped after
 * some of them keeps its snapshot and record, and the next run of the same plan
 * continues it: it sends the same snapshot again, proves each stored chunk by hashing
 * its slice of the stream, and uploads only the rest. A slice that differs gives up
 * the resume and starts the backup afresh in the same run. Without progress to keep,
 * a failure deletes the new snapshot so it is never mistaken for an uploaded parent.
 */
export async function backupSubvolume(
  context: BackupContext,
  plan: RunnablePlan,
  previous: SubvolumeState | undefined,
  /** `namesInBucket`: the snapshot names of the runs in the bucket (PrefixAtStart.runNames); the new one differs from them. */
  options: { readonly noResume: boolean; readonly namesInBucket?: readonly string[] },
): Promise<PublishedBackup> {
  const resumption = await findResumption(context, plan, chunkLayout(context.config), options.noResume);
  const names = { taken: previous === undefined ? [] : [previous.last_snapshot], avoid: options.namesInBucket ?? [] };
  try {
    return await backupFrom(context, plan, previous, names, resumption);
  } catch (error) {
    const mismatch = resumeMismatch(error);
    if (resumption === undefined || mismatch === undefined) throw error;
    await discardResumption(context, resumption.record, mismatch);
    return backupFrom(context, plan, previous, names, undefined);
  }
}

/** Why a resumed upload's re-read did not match the record, if that is how it failed. */
function resumeMismatch(error: unknown): string | undefined {
  const cause = error instanceof ChunkUploadError ? error.cause : error;
  return cause instanceof ResumeMismatchError ? cause.message : undefined;
}

/**
 * `names`: what the new snapshot's name, and so the backup's keys, must not meet besides
 * the snapshots on disk. It comes after `taken`, the last backup's (its snapshot may have
 * been deleted by hand), and differs from `avoid`, every run's in the bucket (a failed
 * run's writer.json outlives its snapshot; its time, from a clock since corrected, may be
 * far ahead, so it sets no minimum).
 */
async function backupFrom(
  context: BackupContext,
  plan: RunnablePlan,
  previous: SubvolumeState | undefined,
  names: { readonly taken: readonly string[]; readonly avoid: readonly string[] },
  resumption: Resumption | undefined,
): Promise<PublishedBackup> {
  const { config, logger } = context;
  const kind = plan.action === 'full' ? 'full' : 'inc';
  const startedAt = context.now();
  const snapshot =
    resumption?.snapshot ?? (await context.snapshots.create(plan.path, plan.subvolume, kind, startedAt, names.taken, names.avoid));
  let published = false;
  let recorder: ResumeRecorder | undefined;
  try {
    if (resumption === undefined)
      logger.info(`${plan.subvolume}: ${plan.action} backup of snapshot ${snapshot.name}`, { reason: plan.reason });
    context.failpoint('backup:snapshot-created');
    const info = await context.btrfs.showSubvolume(snapshot.path);
    const parentPath = plan.action === 'incremental' ? join(config.snapshots.base_dir, plan.parentSnapshot) : undefined;
    const parentInfo = parentPath === undefined ? undefined : await context.btrfs.showSubvolume(parentPath);
    const backup = backupPrefix(config.s3.prefix, plan.subvolume, kind, compactTimestamp(snapshot.createdAt));
    // Before the first upload: another host meeting this directory mid-run must know it is not its own.
    // A resumed backup's marker is there already (findResumption checked that it is ours).
    if (resumption === undefined)
      await context.bucket.putObject(writerMarkerKey(backup), serializeWriterMarker(context.writer, startedAt), {
        storageClass: config.s3.storage_class_manifest,
        contentType: 'application/json',
        condition: { ifNoneMatch: true },
        locked: true,
      });
    recorder = new ResumeRecorder(
      config.global.state_path,
      {
        subvolume: plan.subvolume,
        kind,
        snapshot: { name: snapshot.name, path: snapshot.path, uuid: info.uuid, created_at: snapshot.createdAt.toISOString() },
        parent: plan.action === 'incremental' ? { snapshot: plan.parentSnapshot, manifest: plan.parentManifest } : null,
        backup_prefix: backup,
        layout: chunkLayout(config),
        started_at: resumption?.record.started_at ?? startedAt.toISOString(),
      },
      logger,
      context.now,
      resumption?.record,
    );
    const record = recorder;

    const encoding = chunkEncoding(config);
    const progress = new UploadProgressReporter(context.onProgress, {
      subvolume: plan.subvolume,
      estimatedTotalBytes: await lastStreamBytes(config, plan.subvolume, kind, logger),
      encoded: !encoding.plain,
    });
    // Reused read buffers only when the uploader's splitter reads the stream itself: it hands
    // each read back, an encoder keeps what it reads.
    const source = context.btrfs.send(snapshot.path, {
      ...(parentPath === undefined ? {} : { parent: parentPath }),
      buffers: encoding.plain ? 'reused' : 'fresh',
    });
    progress.started();
    const upload = await progress.track(
      context.bucket.uploadChunkedStream(
        {
          source,
          keyForChunk: (index) => chunkKey(backup, index),
          storageClass: config.s3.storage_class_chunks,
          locked: true,
          ...(encoding.plain ? {} : { encode: (plain) => encodeChunks(progress.countStream(plain), config.s3.chunk_size_bytes, encoding) }),
        },
        {
          ...uploadOptionsFromConfig(config),
          onProgress: (uploaded) => {
            context.failpoint('backup:first-part-uploaded');
            progress.part(uploaded);
          },
          // Parts of an encoded chunk cannot be proven by re-reading (age output is randomized): only whole chunks are
          // recorded, and its open upload is aborted as before.
          ...(encoding.plain ? { onPartComplete: record.part, keepOpenUpload: true } : {}),
          onChunkComplete: async (chunk, index) => {
            progress.chunk();
            await record.chunk(chunk, index);
            context.failpoint('backup:chunk-completed');
          },
          ...(resumption === undefined
            ? {}
            : { resume: uploadResume(resumption.record, (message) => logger.warn(`${plan.subvolume}: ${message}`)) }),
          onRetry: (retry) => {
            progress.retry();
            logger.warn(
              `${plan.subvolume}: ${retry.operation} of ${retry.key}${retry.partNumber === undefined ? '' : ` part ${retry.partNumber}`} failed (attempt ${retry.attempt}: ${describeS3Error(retry.error)}); retrying in ${(retry.delayMs / 1000).toFixed(1)} s`,
            );
          },
        },
      ),
    );
    if (upload.chunks.length === 0) throw new Error(`btrfs send of ${snapshot.path} produced no data`);
    context.failpoint('backup:chunks-uploaded');

    const secret: ManifestPrivate = {
      snapshot_path: snapshot.path,
      stream_sha256: upload.streamSha256,
      chunk_sha256: upload.chunks.map((chunk) => chunk.plainSha256),
    };
    const { recipients } = encoding;
    const manifest: ManifestDocument = {
      version: 2,
      subvolume: plan.subvolume,
      kind,
      created_at: snapshot.createdAt.toISOString(),
      snapshot: { name: snapshot.name, uuid: info.uuid, parent_uuid: info.parentUuid },
      parent_manifest: plan.action === 'incremental' ? plan.parentManifest : null,
      parent_snapshot_uuid: parentInfo?.uuid ?? null,
      chunks: upload.chunks.map((chunk) => ({
        key: chunk.key,
        size: chunk.size,
        sha256: chunk.sha256,
        etag: chunk.etag,
        parts: [...chunk.parts],
        plain_size: chunk.plainSize,
      })),
      total_bytes: upload.totalBytes,
      stored_bytes: upload.storedBytes,
      chunk_size: config.s3.chunk_size_bytes,
      part_size: config.s3.part_size_bytes,
      s3: { bucket: config.s3.bucket, region: config.s3.region, storage_class: config.s3.storage_class_chunks },
      encoding: {
        compression: encoding.compressionLevel === undefined ? 'none' : 'zstd',
        encryption: recipients.length === 0 ? 'none' : 'age',
        recipients: [...recipients],
      },
      // Plaintext hashes would let anyone confirm a guess of the data: sealed with the chunks when they are.
      private: recipients.length === 0 ? { clear: secret } : { age: await sealText(JSON.stringify(secret), recipients) },
      tool: { name: 'btrfs-to-s3', version: context.toolVersion },
      writer: context.writer,
    };
    const key = manifestKey(backup);
    const metadata = { storageClass: config.s3.storage_class_manifest, contentType: 'application/json' };
    // A manifest is written once, never replaced: another writer's in the same place is refused, not overwritten.
    await context.bucket.putObject(key, serializeManifest(manifest), { ...metadata, condition: { ifNoneMatch: true }, locked: true });
    context.failpoint('backup:manifest-written');
    context.signal.throwIfAborted(); // the last point at which stopping leaves nothing visible changed
    const etag = context.pointerEtags.get(plan.subvolume);
    await context.bucket.putObject(
      pointerKey(config.s3.prefix, plan.subvolume),
      serializePointer({ version: 1, manifest_key: key, kind, created_at: manifest.created_at, writer: context.writer }),
      { ...metadata, ...(etag === undefined ? {} : { condition: etag === null ? { ifNoneMatch: true } : { ifMatch: etag } }) },
    );
    published = true;
    await recorder.discard();
    context.failpoint('backup:pointer-written');

    const finishedAt = context.now();
    const elapsedSeconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
    logger.info(`${plan.subvolume}: published ${key}`, {
      bytes: upload.totalBytes,
      ...(resumption === undefined ? {} : { resumed_bytes: upload.resumedBytes }),
      chunks: upload.chunks.length,
      parts: upload.partCount,
      retries: upload.retries,
      seconds: elapsedSeconds,
    });
    return {
      manifestKey: key,
      state: {
        last_snapshot: snapshot.name,
        last_manifest: key,
        last_kind: kind,
        last_backup_at: snapshot.createdAt.toISOString(),
        // An incremental extends the chain that the previous full started.
        last_full_at: kind === 'inc' && previous !== undefined ? previous.last_full_at : snapshot.createdAt.toISOString(),
      },
      metrics: {
        subvolume: plan.subvolume,
        kind,
        ok: true,
        bytes: upload.totalBytes,
        chunks: upload.chunks.length,
        parts: upload.partCount,
        retries: upload.retries,
        resumedBytes: upload.resumedBytes,
        elapsedSeconds,
        finishedAt: finishedAt.getTime() / 1000,
      },
    };
  } catch (error) {
    // Once current.json names the snapshot it is the next incremental's parent: keep it.
    if (published) throw error;
    await recorder?.flush();
    if (recorder?.hasProgress === true && resumeMismatch(error) === undefined) {
      logger.warn(
        `${plan.subvolume}: kept snapshot ${snapshot.name} and what is uploaded of it: the next run resumes this backup (backup --no-resume starts afresh)`,
      );
      throw error;
    }
    if (resumption === undefined) await recorder?.discard();
    await context.btrfs
      .deleteSubvolume(snapshot.path)
      .catch((cleanupError: unknown) =>
        logger.warn(`${plan.subvolume}: could not delete unpublished snapshot ${snapshot.path}: ${String(cleanupError)}`),
      );
    throw error;
  }
}

/** The layout and encoding a resume record is made under. */
function chunkLayout(config: Config): ChunkLayout {
  return {
    chunk_size: config.s3.chunk_size_bytes,
    part_size: config.s3.part_size_bytes,
    compression: config.s3.compression === 'zstd' ? config.s3.compression_level : null,
    recipients: [...config.encryption.recipients],
  };
}

/** How chunks are stored under this config: `plain` when neither compressed nor encrypted (the send stream as it is). */
function chunkEncoding(config: Pick<Config, 's3' | 'encryption'>): {
  readonly plain: boolean;
  readonly compressionLevel?: number;
  readonly recipients: readonly string[];
} {
  const { recipients } = config.encryption;
  const compressed = config.s3.compression === 'zstd';
  return {
    plain: !compressed && recipients.length === 0,
    ...(compressed ? { compressionLevel: config.s3.compression_level } : {}),
    recipients,
  };
}
