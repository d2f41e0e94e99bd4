import type { S3Client } from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import {
  assertPartsWithin,
  type ChainLink,
  partMemoryLimit,
  type RemoteConfig,
  type Logger,
  type ProcessRunner,
  type ProgressListener,
  resolveChain,
  resolveStartKey,
  silentLogger,
  withActivity,
} from '@org/btrfs-s3-core';
import { findRestorePoint } from '@org/btrfs-s3-bucket';
import { S3Bucket, withS3Client } from '@org/btrfs-s3-store';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSubvolumeName, RestoreInputError, RestoreVerificationError } from './errors';
import { type OpenedLink, openChain } from './open-chain';
import { checkReceived, receiveOne, removeReceived, type RestoreContext, withProgress } from './receive';
import type { RestorePlan, RestoreResult } from './result';
import { preflight, type PreflightReport } from './preflight';
import { estimateThaw } from './thaw-estimate';
import { assertRestoreTarget } from './target';
import { verifyTree } from './verify-tree';
import type { VerifyMode } from './verify';

/** What runRestore uses to reach Btrfs, S3 and getfattr; each defaults to the real one (tests inject fakes). */
export interface RestoreDeps {
  readonly btrfs?: Btrfs;
  /**
   * Made from `config.s3` when absent, and destroyed when the restore ends. One given here is left
   * open; make it with `createS3Client` (@org/btrfs-s3-store) to keep the timeouts and the
   * one retry loop the config sets (a plain S3Client retries underneath them).
   */
  readonly client?: S3Client;
  /** Runs getfattr for the tree comparison; must kill it when its signal aborts. */
  readonly runner?: ProcessRunner;
  readonly now?: () => Date;
}

/** What every restore takes: which backup, from where, and how to wait for a thaw. */
export interface RestoreSourceOptions {
  /** The S3 location is enough (a new host's config); a backup host's whole Config is one too. */
  readonly config: RemoteConfig;
  /** The subvolume's name, as in the S3 keys (the last component of its configured path). */
  readonly subvolume: string;
  /** Restore this backup instead of the one `current.json` points to. */
  readonly manifestKey?: string;
  /**
   * Restore the subvolume as of this time: the newest backup made at or before it
   * among those still in the bucket whose chain reaches a full. Not with `manifestKey`.
   */
  readonly at?: Date;
  /** Wait for archived chunks to thaw (default `restore.wait_for_restore`); false requests the thaw and fails with ThawPendingError. */
  readonly wait?: boolean;
  /** How long to wait for the thaw; default `restore.restore_timeout_seconds`. */
  readonly waitTimeoutSeconds?: number;
  /** The age identity file for encrypted backups; default `encryption.identity_file`. */
  readonly identityFile?: string;
  /** Silent when absent. */
  readonly logger?: Logger;
  /** Aborting it stops the restore; a restore into a target removes everything it received. */
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  readonly deps?: RestoreDeps;
}

export interface RestoreOptions extends RestoreSourceOptions {
  /** A new path on a Btrfs filesystem, or an empty directory; never overwritten. */
  readonly target: string;
  /** The tree comparison against the source snapshot when it is on this host; default `restore.verify_mode`. */
  readonly verify?: VerifyMode;
  /** Restore even when the target's free space is less than the chain's streams (compression or reflinks may make it fit). */
  readonly skipSpaceCheck?: boolean;
}

/**
 * Restores a subvolume: resolve the chain (every manifest checked first), run the
 * preflight (Btrfs, free space, tools), thaw archived chunks of the whole chain, then
 * per backup, oldest first, stream verified bytes into `btrfs receive` under the
 * target, then check the Received UUID and compare the trees. On any failure before
 * verification, everything this restore received is removed; a failed verification
 * keeps it for inspection. It runs registered beside the host lock, so a prune on this
 * host and it exclude each other (ActivityBusyError, exit 3) without it blocking backups.
 */
export async function runRestore(options: RestoreOptions): Promise<RestoreResult> {
  assertRestoreInput(options);
  await assertRestoreTarget(options.target);
  return withActivity(options.config.global.lock_path, 'restore', () =>
    withRestoreContext(options, async (context) => restoreChain(context, options, await prepare(context, options))),
  );
}

/**
 * What runRestore would do, and what its thaw would cost by tier, without doing it:
 * resolves the chain and runs the same preflight, then stops before any thaw request
 * or download. Reads only manifests and current.json; writes nothing.
 */
export async function planRestore(options: RestoreOptions): Promise<RestorePlan> {
  assertRestoreInput(options);
  await assertRestoreTarget(options.target);
  return withRestoreContext(options, async (context) => {
    const { chain, report } = await prepare(context, options);
    const estimate = estimateThaw(chain);
    return {
      subvolume: options.subvolume,
      target: options.target,
      chain: chain.map(({ key, manifest }) => ({
        manifestKey: key,
        kind: manifest.kind,
        snapshot: manifest.snapshot.name,
        createdAt: manifest.created_at,
        bytes: manifest.total_bytes,
        chunks: manifest.chunks.length,
        storageClass: manifest.s3.storage_class,
      })),
      bytes: report.neededBytes,
      freeBytes: report.freeBytes,
      spaceChecked: report.spaceChecked,
      tools: [...report.tools],
      objects: estimate.objects,
      archivedObjects: estimate.archivedObjects,
      archivedBytes: estimate.archivedBytes,
      thaw: [...estimate.byTier],
      tier: context.config.restore.restore_tier,
    };
  });
}

/** Checks what every restore is given, before any request: the name becomes part of S3 keys. */
export function assertRestoreInput(options: RestoreSourceOptions): void {
  assertSubvolumeName(options.subvolume);
  assertOneStart(options);
}

/** What building a restore's context reads of its options. */
export type RestoreContextOptions = Pick<RestoreSourceOptions, 'config' | 'logger' | 'signal' | 'onProgress' | 'deps'>;

/**
 * Runs `fn` with the options resolved, closing a client it made. In a bucket with
 * versioning on, the handle sees through delete markers (S3Bucket throughDeleteMarkers):
 * a backup someone "deleted" with the credentials restores from its newest version that
 * is not a delete marker, and the logger says so once.
 */
export async function withRestoreContext<T>(options: RestoreContextOptions, fn: (context: RestoreContext) => Promise<T>): Promise<T> {
  const { config, deps = {} } = options;
  const signal = options.signal ?? new AbortController().signal;
  const logger = options.logger ?? silentLogger();
  return withS3Client(config.s3, deps.client, async (client) =>
    fn({
      config,
      logger,
      btrfs: deps.btrfs ?? new Btrfs(spawnProcessRunner),
      bucket: await new S3Bucket(client, config.s3, { signal }).throughDeleteMarkers((message) => logger.warn(message)),
      runner: deps.runner ?? spawnProcessRunner,
      signal,
      onProgress: options.onProgress ?? (() => undefined),
      now: deps.now ?? (() => new Date()),
    }),
  );
}

/** `at` and `manifestKey` each choose the backup; both at once is a contradiction. */
function assertOneStart(options: RestoreSourceOptions): void {
  if (options.at !== undefined && options.manifestKey !== undefined)
    throw new RestoreInputError('--at and --manifest-key each choose the backup to restore; give one');
  if (options.at !== undefined && Number.isNaN(options.at.getTime())) throw new RestoreInputError('--at: not a valid time');
}

/** A chain checked and opened and a preflight passed: what a restore starts from. */
export interface PreparedRestore {
  readonly chain: readonly OpenedLink[];
  readonly report: PreflightReport;
}

/** The chain, every manifest read and checked, and the preflight: all before a thaw request or a chunk GET. */
async function prepare(context: RestoreContext, options: RestoreOptions): Promise<PreparedRestore> {
  const chain = await chainFor(context, options);
  const report = await preflight(context, chain, options.target, {
    verify: options.verify ?? context.config.restore.verify_mode,
    skipSpaceCheck: options.skipSpaceCheck ?? false,
  });
  return { chain, report };
}

/**
 * The chain the options choose (current.json, `manifestKey` or `at`), every manifest
 * read, checked and its private section opened (openChain: an encrypted one needs the
 * identity), oldest first.
 */
export async function chainFor(
  context: RestoreContext,
  options: Pick<RestoreSourceOptions, 'subvolume' | 'manifestKey' | 'at' | 'identityFile'>,
): Promise<OpenedLink[]> {
  const source = { readText: (key: string) => context.bucket.readTextIfExists(key) };
  const startKey =
    options.at === undefined
      ? await resolveStartKey(source, context.config.s3.prefix, options.subvolume, options.manifestKey)
      : (await findRestorePoint({ config: context.config, bucket: context.bucket, subvolume: options.subvolume, at: options.at }))
          .manifestKey;
  const chain = await resolveChain(source, startKey, options.subvolume);
  // Before any thaw or GET: the config, not a manifest from the bucket, sizes the download's memory.
  for (const link of chain) assertPartsWithin(link.key, link.manifest, partMemoryLimit(context.config));
  context.logger.info(`${options.subvolume}: a chain of ${chain.length} backup(s) ending at ${startKey}`);
  return openChain(chain, options.identityFile ?? context.config.encryption.identity_file);
}

type ThawWaitOptions = Pick<RestoreSourceOptions, 'subvolume' | 'wait' | 'waitTimeoutSeconds'>;

/** Requests the thaw of the chain's archived chunks and, unless told not to, waits until every one is readable. */
export async function thawChain(context: RestoreContext, options: ThawWaitOptions, chain: readonly ChainLink[]): Promise<void> {
  await thawKeys(
    context,
    options,
    chain.flatMap((link) => link.manifest.chunks.map((chunk) => chunk.key)),
  );
}

/** Requests the thaw of those of `keys` that are archived and, unless told not to, waits until every one is readable. */
export async function thawKeys(context: RestoreContext, options: ThawWaitOptions, keys: readonly string[]): Promise<void> {
  const { config, logger } = context;
  const started = context.now().getTime();
  await context.bucket.thawObjects(keys, {
    tier: config.restore.restore_tier,
    waitForRestore: options.wait ?? config.restore.wait_for_restore,
    timeoutMs: (options.waitTimeoutSeconds ?? config.restore.restore_timeout_seconds) * 1000,
    poll: { initialDelayMs: config.restore.thaw_poll_seconds * 1000, maxDelayMs: config.restore.thaw_poll_seconds * 15_000 },
    onProgress: ({ ready, total }) => {
      const elapsed = Math.round((context.now().getTime() - started) / 1000);
      logger.info(
        `${options.subvolume}: ${ready} of ${total} chunk objects readable after ${elapsed} s${ready < total ? '; waiting for the thaw' : ''}`,
      );
    },
  });
}

/**
 * Thaws, receives and verifies a prepared chain into `options.target`. A failed
 * verification keeps what was received for inspection unless `keepFailed` is false.
 */
export async function restoreChain(
  context: RestoreContext,
  options: RestoreOptions,
  { chain }: PreparedRestore,
  keepFailed = true,
): Promise<RestoreResult> {
  const { config, signal } = context;
  const started = context.now();
  await thawChain(context, options, chain);

  const { target } = options;
  const created = !existsSync(target);
  await mkdir(target, { recursive: true });
  const received: string[] = [];
  try {
    for (const { link, progress } of withProgress(context, chain)) {
      signal.throwIfAborted();
      received.push(...(await receiveOne(context, link, progress, target)));
    }
  } catch (error) {
    await removeReceived(context, received, target, created);
    throw error;
  }

  const last = lastOf(chain);
  const snapshotPath = join(target, last.manifest.snapshot.name);
  try {
    const receivedUuid = await checkReceived(context, chain, target, snapshotPath);
    const verification = await verifyTree(context, options.verify ?? config.restore.verify_mode, last.secret.snapshot_path, snapshotPath);
    return {
      subvolume: options.subvolume,
      target,
      chain: chain.map((link) => ({
        manifestKey: link.key,
        kind: link.manifest.kind,
        snapshot: link.manifest.snapshot.name,
        bytes: link.manifest.total_bytes,
      })),
      snapshotPath,
      receivedUuid,
      verification,
      bytes: chain.reduce((sum, link) => sum + link.manifest.total_bytes, 0),
      elapsedSeconds: (context.now().getTime() - started.getTime()) / 1000,
    };
  } catch (error) {
    // A failed verification keeps the snapshots for inspection; an interrupted one
    // proved nothing, and an interrupt leaves nothing behind, as during the download.
    if (signal.aborted || !keepFailed) await removeReceived(context, received, target, created);
    else context.logger.error(`the restored snapshots are kept under ${target} for inspection`);
    throw error;
  }
}

function lastOf(chain: readonly OpenedLink[]): OpenedLink {
  const last = chain[chain.length - 1];
  if (last === undefined) throw new RestoreVerificationError('empty chain');
  return last;
}
