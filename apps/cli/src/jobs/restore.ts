import type { S3Client } from '@aws-sdk/client-s3';
import { type Btrfs, ProcessError, type ProcessRunner } from '@org/btrfs';
import { BtrfsToS3Error, type Config, ExitCode, type Logger, type Manifest } from '@org/btrfs-s3-core';
import { assertRestoreTarget, type ChainLink, type CommandRunner, compareTrees, resolveChain, resolveStartKey, type TreeComparison, type VerifyMode } from '@org/btrfs-s3-restore';
import { downloadVerifiedStream, retryPolicyFromConfig, type S3ObjectStore, thawObjects } from '@org/btrfs-s3-store';
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import type { ProgressFactory } from '../progress';
import { manifestSource } from './inventory';

export interface RestoreDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly btrfs: Btrfs;
  readonly client: S3Client;
  readonly store: S3ObjectStore;
  /** Runs getfattr for the tree comparison; must kill it when the signal it is given aborts (see signalledRunner). */
  readonly runner: CommandRunner;
  readonly signal: AbortSignal;
  readonly progress: ProgressFactory;
  readonly now: () => Date;
}

export interface RestoreOptions {
  readonly subvolume: string;
  readonly target: string;
  readonly manifestKey?: string;
  readonly verify: VerifyMode;
  readonly waitForRestore: boolean;
  readonly restoreTimeoutSeconds: number;
}

export interface RestoreResult {
  readonly subvolume: string;
  readonly target: string;
  /** Oldest first: the full, then each incremental. */
  readonly chain: readonly { readonly manifestKey: string; readonly kind: 'full' | 'inc'; readonly snapshot: string; readonly bytes: number }[];
  /** The restored snapshot: the last of the chain. */
  readonly snapshotPath: string;
  readonly receivedUuid: string;
  readonly verification: (TreeComparison & { readonly mode: VerifyMode; readonly source: string }) | { readonly mode: VerifyMode; readonly skipped: string };
  readonly bytes: number;
  readonly elapsedSeconds: number;
}

/**
 * A CommandRunner over a ProcessRunner's `spawn`, which kills the program when the
 * signal aborts (`ProcessRunner.run` takes none): an interrupt during the tree
 * comparison then stops getfattr instead of waiting for it to walk the whole tree.
 */
export function signalledRunner(runner: ProcessRunner): CommandRunner {
  return {
    async run(command, args, options) {
      const signal = options?.signal;
      const child = runner.spawn(command, args, signal === undefined ? {} : { signal });
      child.stdin.end();
      const [stdout, exit] = await Promise.all([text(child.stdout), child.completion]);
      if (exit.exitCode !== 0 || exit.error !== undefined) throw new ProcessError(command, args, exit.exitCode, exit.stderr, exit.error, exit.signal);
      return { stdout };
    },
  };
}

/** The restored data does not match what was backed up. The restored subvolumes stay for inspection. */
export class VerificationError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Fatal });
  }
}

/**
 * Restores a subvolume: resolve the chain (every manifest checked first), thaw
 * archived chunks of the whole chain, then per backup, oldest first, stream
 * verified bytes into `btrfs receive` under the target, then verify. On any
 * failure before verification, everything this restore received is removed.
 */
export async function runRestore(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreResult> {
  const { config, logger } = deps;
  const started = deps.now();
  await assertRestoreTarget(options.target);
  const source = manifestSource(deps.store);
  const startKey = await resolveStartKey(source, config.s3.prefix, options.subvolume, options.manifestKey);
  const chain = await resolveChain(source, startKey, options.subvolume);
  logger.info(`${options.subvolume}: restoring a chain of ${chain.length} backup(s) ending at ${startKey}`);

  const keys = chain.flatMap((link) => link.manifest.chunks.map((chunk) => chunk.key));
  await thawObjects(deps.client, config.s3.bucket, keys, {
    tier: config.restore.restore_tier,
    waitForRestore: options.waitForRestore,
    timeoutMs: options.restoreTimeoutSeconds * 1000,
    poll: { initialDelayMs: config.restore.thaw_poll_seconds * 1000, maxDelayMs: config.restore.thaw_poll_seconds * 15_000 },
    signal: deps.signal,
    retry: retryPolicyFromConfig(config.s3),
    onProgress: ({ ready, total }) => logger.info(`${options.subvolume}: ${ready} of ${total} chunk objects readable${ready < total ? '; waiting for the thaw' : ''}`),
  });

  const created = !existsSync(options.target);
  await mkdir(options.target, { recursive: true });
  const received: string[] = [];
  try {
    for (const link of chain) {
      deps.signal.throwIfAborted();
      received.push(...(await receiveOne(deps, link, options.target)));
    }
  } catch (error) {
    await removeReceived(deps, received, options.target, created);
    throw error;
  }

  const last = chain[chain.length - 1];
  if (last === undefined) throw new VerificationError('empty chain');
  const snapshotPath = join(options.target, last.manifest.snapshot.name);
  let receivedUuid: string;
  let verification: RestoreResult['verification'];
  try {
    receivedUuid = await checkReceived(deps, chain, options.target, snapshotPath, last.manifest);
    verification = await verifyTree(deps, options, last.manifest, snapshotPath);
  } catch (error) {
    // A failed verification keeps the snapshots for inspection; an interrupted one
    // proved nothing, and an interrupt leaves nothing behind, as during the download.
    if (deps.signal.aborted) await removeReceived(deps, received, options.target, created);
    throw error;
  }
  const bytes = chain.reduce((sum, link) => sum + link.manifest.total_bytes, 0);
  return {
    subvolume: options.subvolume,
    target: options.target,
    chain: chain.map((link) => ({ manifestKey: link.key, kind: link.manifest.kind, snapshot: link.manifest.snapshot.name, bytes: link.manifest.total_bytes })),
    snapshotPath,
    receivedUuid,
    verification,
    bytes,
    elapsedSeconds: (deps.now().getTime() - started.getTime()) / 1000,
  };
}

async function receiveOne(deps: RestoreDeps, link: ChainLink, target: string): Promise<string[]> {
  const { manifest } = link;
  deps.logger.info(`${manifest.subvolume}: receiving ${manifest.kind} ${manifest.snapshot.name} (${manifest.chunks.length} chunks)`);
  const progress = deps.progress(`${manifest.subvolume} ${manifest.kind}`);
  const download = downloadVerifiedStream(
    { client: deps.client, bucket: deps.config.s3.bucket, chunks: manifest.chunks, streamSha256: manifest.restore.stream_sha256 },
    { concurrency: deps.config.s3.concurrency, signal: deps.signal, retry: retryPolicyFromConfig(deps.config.s3), onProgress: (bytes) => progress.update(bytes) },
  );
  const receiver = deps.btrfs.receive(target);
  try {
    await pipeline(download, receiver, { signal: deps.signal });
  } catch (error) {
    // The receiver removes what it half-received; wait for that before reporting.
    await receiver.done.catch(() => undefined);
    throw error;
  } finally {
    progress.stop();
  }
  return receiver.done;
}

async function removeReceived(deps: RestoreDeps, received: readonly string[], target: string, created: boolean): Promise<void> {
  for (const path of [...received].reverse()) {
    await deps.btrfs.deleteSubvolume(path).catch((error: unknown) => deps.logger.error(`could not remove ${path} after the failed restore: ${String(error)}`));
  }
  if (created) await rmdir(target).catch((error: unknown) => deps.logger.error(`could not remove ${target} after the failed restore: ${String(error)}`));
}

/** Every snapshot of the chain is present; the last is read-only and was received from the backed-up snapshot. */
async function checkReceived(deps: RestoreDeps, chain: readonly ChainLink[], target: string, snapshotPath: string, manifest: Manifest): Promise<string> {
  const present = new Set((await deps.btrfs.listSubvolumes(target)).map((info) => info.name));
  const missing = chain.map((link) => link.manifest.snapshot.name).filter((name) => !present.has(name));
  if (missing.length > 0) throw new VerificationError(`restored chain incomplete: ${missing.join(', ')} missing under ${target}`);
  const info = await deps.btrfs.showSubvolume(snapshotPath);
  if (!info.readOnly) throw new VerificationError(`restored snapshot ${snapshotPath} is not read-only`);
  if (info.receivedUuid !== manifest.snapshot.uuid) {
    throw new VerificationError(`restored snapshot ${snapshotPath} has Received UUID ${info.receivedUuid ?? '-'}, expected ${manifest.snapshot.uuid} (the backed-up snapshot's UUID)`);
  }
  return info.receivedUuid;
}

async function verifyTree(deps: RestoreDeps, options: RestoreOptions, manifest: Manifest, snapshotPath: string): Promise<RestoreResult['verification']> {
  const mode = options.verify;
  if (mode === 'none') return { mode, skipped: '--verify none' };
  const sourcePath = manifest.snapshot.path;
  if (!existsSync(sourcePath)) return { mode, skipped: `the source snapshot ${sourcePath} is not on this host` };
  const comparison = await compareTrees(sourcePath, snapshotPath, { mode, sampleMaxFiles: deps.config.restore.sample_max_files, runner: deps.runner, signal: deps.signal });
  if (comparison.differences.length > 0) {
    const shown = comparison.differences.slice(0, 20).map((difference) => `  ${difference.path}: ${difference.what}`);
    const more = comparison.differences.length > 20 ? [`  ... and ${comparison.differences.length - 20} more`] : [];
    throw new VerificationError(`restored tree differs from ${sourcePath} in ${comparison.differences.length} place(s); the restore is kept at ${snapshotPath} for inspection:\n${[...shown, ...more].join('\n')}`);
  }
  deps.logger.info(`verified ${comparison.compared} entries of ${snapshotPath} against ${sourcePath} (${mode})`);
  return { ...comparison, mode, source: sourcePath };
}
