import type { Btrfs } from '@org/btrfs-s3-btrfs';
import { decodeStages } from '@org/btrfs-s3-codec';
import {
  isPlainStream,
  type Logger,
  partMemoryLimit,
  storedStreamSha256,
  type ProcessRunner,
  type ProgressListener,
  type RemoteConfig,
} from '@org/btrfs-s3-core';
import { describeS3Error, type S3Bucket } from '@org/btrfs-s3-store';
import { rmdir } from 'node:fs/promises';
import type { PipelineOptions, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChainProgress, type LinkProgress } from './chain-progress';
import { RestoreVerificationError } from './errors';
import type { OpenedLink } from './open-chain';

/** Everything a restore reaches the world through, resolved from RestoreOptions. */
export interface RestoreContext {
  readonly config: RemoteConfig;
  readonly logger: Logger;
  readonly btrfs: Btrfs;
  /** The restore's one bucket handle: the client, `config.s3`'s bucket, SSE and retry policy, and `signal`. */
  readonly bucket: S3Bucket;
  readonly runner: ProcessRunner;
  readonly signal: AbortSignal;
  readonly onProgress: ProgressListener;
  readonly now: () => Date;
}

/**
 * Each backup of the chain, oldest first, with its share of the chain's progress
 * (reported when the loop reaches it); however the loop ends, the transfer has ended.
 */
export function* withProgress(
  context: RestoreContext,
  chain: readonly OpenedLink[],
): Generator<{ readonly link: OpenedLink; readonly progress: LinkProgress }, void, undefined> {
  const [first] = chain;
  if (first === undefined) return;
  const progress = new ChainProgress(
    context.onProgress,
    first.manifest.subvolume,
    chain.map((link) => link.manifest),
  );
  try {
    for (const [index, link] of chain.entries()) yield { link, progress: progress.link(link.manifest, index === chain.length - 1) };
  } finally {
    progress.abandon(); // a bar drawn for the transfer must end even when the loop stops between backups
  }
}

/**
 * One backup's verified send stream. `stages` follow the download: decoding, for
 * compressed or encrypted chunks (none for a plain stream).
 */
function verifiedStream(
  context: RestoreContext,
  link: OpenedLink,
  progress: LinkProgress,
): { readonly stream: Readable; readonly stages: ReturnType<typeof decodeStages> } {
  const { manifest, secret } = link;
  const stream = context.bucket.downloadVerifiedStream(
    // Encoded: the decoder checks every chunk's plaintext, so the stored chunks' own hashes would be a pass for nothing.
    { chunks: manifest.chunks, streamSha256: storedStreamSha256(manifest), checkChunkSha256: isPlainStream(manifest) },
    {
      concurrency: context.config.s3.concurrency,
      maxPartSizeBytes: partMemoryLimit(context.config),
      onProgress: (storedBytes) => progress.verified(storedBytes),
      onRetry: (retry) => {
        progress.retried();
        context.logger.warn(
          `${manifest.subvolume}: GET of ${retry.key} part ${retry.partNumber} failed (attempt ${retry.attempt}: ${describeS3Error(retry.error)}); retrying in ${(retry.delayMs / 1000).toFixed(1)} s`,
        );
      },
    },
  );
  const chunks = manifest.chunks.map((chunk, index) => ({
    key: chunk.key,
    size: chunk.size,
    plainSize: chunk.plain_size,
    plainSha256: secret.chunk_sha256[index] ?? '',
  }));
  const stages = isPlainStream(manifest)
    ? []
    : decodeStages(chunks, secret.stream_sha256, {
        compressed: manifest.encoding.compression === 'zstd',
        ...(link.identities === undefined ? {} : { identities: link.identities }),
      });
  return { stream, stages };
}

/** stream.pipeline with the decoding stages between source and sink (its typings take no spread of mixed stages). */
function pipeThrough(source: Readable, stages: ReturnType<typeof decodeStages>, sink: Writable, options: PipelineOptions): Promise<void> {
  return (pipeline as unknown as (...args: unknown[]) => Promise<void>)(source, ...stages, sink, options);
}

/** Streams one backup's verified bytes into `btrfs receive`; returns the subvolumes it created. */
export async function receiveOne(context: RestoreContext, link: OpenedLink, progress: LinkProgress, target: string): Promise<string[]> {
  const { manifest } = link;
  context.logger.info(`${manifest.subvolume}: receiving ${manifest.kind} ${manifest.snapshot.name} (${manifest.chunks.length} chunks)`);
  const download = verifiedStream(context, link, progress);
  const receiver = context.btrfs.receive(target);
  let failed = true;
  try {
    await pipeThrough(download.stream, download.stages, receiver, { signal: context.signal });
    failed = false;
  } catch (error) {
    // The receiver removes what it half-received; wait for that before reporting.
    await receiver.done.catch(() => undefined);
    throw error;
  } finally {
    progress.finished(failed);
  }
  return receiver.done;
}

/**
 * Writes one backup's verified bytes to `output`, leaving it open for the next backup
 * of the chain. Bytes reach `output` only once their part's SHA-256 matched; a
 * mismatch fails the stream there, so a reader sees a stream cut short, never a wrong byte.
 */
export async function writeOne(context: RestoreContext, link: OpenedLink, progress: LinkProgress, output: Writable): Promise<void> {
  const { manifest } = link;
  context.logger.info(`${manifest.subvolume}: writing ${manifest.kind} ${manifest.snapshot.name} (${manifest.chunks.length} chunks)`);
  const download = verifiedStream(context, link, progress);
  let failed = true;
  try {
    await pipeThrough(download.stream, download.stages, output, { signal: context.signal, end: false });
    failed = false;
  } finally {
    progress.finished(failed);
  }
}

/** Removes what a failed restore received, newest first, and the target if the restore made it. */
export async function removeReceived(
  context: RestoreContext,
  received: readonly string[],
  target: string,
  created: boolean,
): Promise<void> {
  for (const path of [...received].reverse()) {
    await context.btrfs.deleteSubvolume(path).catch((error: unknown) => context.logger.error(`could not remove ${path}: ${String(error)}`));
  }
  if (created) await rmdir(target).catch((error: unknown) => context.logger.error(`could not remove ${target}: ${String(error)}`));
}

/** Every snapshot of the chain is present; the last is read-only and was received from the backed-up snapshot. Returns its Received UUID. */
export async function checkReceived(
  context: RestoreContext,
  chain: readonly OpenedLink[],
  target: string,
  snapshotPath: string,
): Promise<string> {
  const present = new Set((await context.btrfs.listSubvolumes(target)).map((info) => info.name));
  const missing = chain.map((link) => link.manifest.snapshot.name).filter((name) => !present.has(name));
  if (missing.length > 0) throw new RestoreVerificationError(`restored chain incomplete: ${missing.join(', ')} missing under ${target}`);
  const expected = chain[chain.length - 1]?.manifest.snapshot.uuid;
  const info = await context.btrfs.showSubvolume(snapshotPath);
  if (!info.readOnly) throw new RestoreVerificationError(`restored snapshot ${snapshotPath} is not read-only`);
  if (info.receivedUuid === null || info.receivedUuid !== expected) {
    throw new RestoreVerificationError(
      `restored snapshot ${snapshotPath} has Received UUID ${info.receivedUuid ?? '-'}, expected ${expected ?? '-'} (the backed-up snapshot's UUID)`,
    );
  }
  return info.receivedUuid;
}
