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
import { describeS3Error, uploadOptionsFromConfig } from '@org/btrfs-s3-store';
import { join } from 'node:path';
import type { BackupContext } from './context';
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
 * reader can see has changed; on any failure before that, the new snapshot is
 * deleted so it is never mistaken for an uploaded parent.
 */
export async function backupSubvolume(
  context: BackupContext,
  plan: RunnablePlan,
  previous: SubvolumeState | undefined,
): Promise<PublishedBackup> {
  const { config, logger } = context;
  const kind = plan.action === 'full' ? 'full' : 'inc';
  const startedAt = context.now();
  const snapshot = await context.snapshots.create(plan.path, plan.subvolume, kind, startedAt);
  let published = false;
  try {
    logger.info(`${plan.subvolume}: ${plan.action} backup of snapshot ${snapshot.name}`, { reason: plan.reason });
    context.failpoint('backup:snapshot-created');
    const info = await context.btrfs.showSubvolume(snapshot.path);
    const parentPath = plan.action === 'incremental' ? join(config.snapshots.base_dir, plan.parentSnapshot) : undefined;
    const parentInfo = parentPath === undefined ? undefined : await context.btrfs.showSubvolume(parentPath);
    const backup = backupPrefix(config.s3.prefix, plan.subvolume, kind, compactTimestamp(snapshot.createdAt));
    // Before the first upload: another host meeting this directory mid-run must know it is not its own.
    await context.bucket.putObject(writerMarkerKey(backup), serializeWriterMarker(context.writer, startedAt), {
      storageClass: config.s3.storage_class_manifest,
      contentType: 'application/json',
      condition: { ifNoneMatch: true },
      locked: true,
    });

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
          onChunkComplete: () => {
            progress.chunk();
            context.failpoint('backup:chunk-completed');
          },
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
    context.failpoint('backup:pointer-written');

    const finishedAt = context.now();
    const elapsedSeconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
    logger.info(`${plan.subvolume}: published ${key}`, {
      bytes: upload.totalBytes,
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
        elapsedSeconds,
        finishedAt: finishedAt.getTime() / 1000,
      },
    };
  } catch (error) {
    // Once current.json names the snapshot it is the next incremental's parent: keep it.
    if (published) throw error;
    await context.btrfs
      .deleteSubvolume(snapshot.path)
      .catch((cleanupError: unknown) =>
        logger.warn(`${plan.subvolume}: could not delete unpublished snapshot ${snapshot.path}: ${String(cleanupError)}`),
      );
    throw error;
  }
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
