import type { Btrfs } from '@org/btrfs-s3-btrfs';
import type { ChainLink, Logger, ProcessRunner, ProgressListener, RemoteConfig } from '@org/btrfs-s3-core';
import type { S3Bucket } from '@org/btrfs-s3-store';
import { rmdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { RestoreVerificationError } from './errors';

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

/** Streams one backup's verified bytes into `btrfs receive`; returns the subvolumes it created. */
export async function receiveOne(context: RestoreContext, link: ChainLink, target: string): Promise<string[]> {
  const { manifest } = link;
  const { config, signal } = context;
  context.logger.info(`${manifest.subvolume}: receiving ${manifest.kind} ${manifest.snapshot.name} (${manifest.chunks.length} chunks)`);
  const event = {
    phase: 'download',
    subvolume: manifest.subvolume,
    label: `${manifest.subvolume} ${manifest.kind}`,
    totalBytes: manifest.total_bytes,
  } as const;
  let bytes = 0;
  const download = context.bucket.downloadVerifiedStream(
    { chunks: manifest.chunks, streamSha256: manifest.restore.stream_sha256 },
    {
      concurrency: config.s3.concurrency,
      onProgress: (done) => {
        bytes = done;
        context.onProgress({ ...event, bytes, done: false });
      },
    },
  );
  const receiver = context.btrfs.receive(target);
  try {
    await pipeline(download, receiver, { signal });
  } catch (error) {
    // The receiver removes what it half-received; wait for that before reporting.
    await receiver.done.catch(() => undefined);
    throw error;
  } finally {
    context.onProgress({ ...event, bytes, done: true });
  }
  return receiver.done;
}

/** Removes what a failed restore received, newest first, and the target if the restore made it. */
export async function removeReceived(
  context: RestoreContext,
  received: readonly string[],
  target: string,
  created: boolean,
): Promise<void> {
  for (const path of [...received].reverse()) {
    await context.btrfs
      .deleteSubvolume(path)
      .catch((error: unknown) => context.logger.error(`could not remove ${path} after the failed restore: ${String(error)}`));
  }
  if (created)
    await rmdir(target).catch((error: unknown) =>
      context.logger.error(`could not remove ${target} after the failed restore: ${String(error)}`),
    );
}

/** Every snapshot of the chain is present; the last is read-only and was received from the backed-up snapshot. Returns its Received UUID. */
export async function checkReceived(
  context: RestoreContext,
  chain: readonly ChainLink[],
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
