import {
  assertPartsWithin,
  BtrfsToS3Error,
  ChainError,
  type ChainLink,
  ExitCode,
  FormatError,
  type Logger,
  partMemoryLimit,
  storedStreamSha256,
  pointerKey,
  type RemoteConfig,
  resolveChain,
  resolveStartKey,
  selectSubvolumes,
  silentLogger,
} from '@org/btrfs-s3-core';
import { type ChunkFinding, type ChunkReads, type S3Bucket, sampleChunks } from '@org/btrfs-s3-store';
import { type BucketContext, type BucketOptions, withBucketContext } from './context';
import { listSubvolumeObjects, manifestSource } from './inventory';
import { UnknownListedSubvolumeError } from './list';
import { recordChecks, recordInventory } from './metrics-record';
import type { VerifyProblem, VerifyReport, VerifySubvolume } from './schemas';

/**
 * What to re-download: nothing (HeadObject only), every chunk, or `count` chunks per
 * manifest. A sample's choice depends on the manifest key and `round` only: the same
 * round picks the same chunks (verify passes none), and `drill` passes the month so its
 * picks rotate month to month.
 */
export type VerifyReads =
  { readonly reads: 'none' } | { readonly reads: 'all' } | { readonly reads: 'sample'; readonly count: number; readonly round?: string };

/** The chunks a sample of `count` in `round` reads from one backup's manifest, in stream order. */
export function sampledChunks<T extends { readonly key: string }>(
  manifestKey: string,
  chunks: readonly T[],
  count: number,
  round?: string,
): T[] {
  return sampleChunks(sampleSeed(manifestKey, round), chunks, count);
}

function sampleSeed(manifestKey: string, round: string | undefined): string {
  return round === undefined ? manifestKey : `${manifestKey}#${round}`;
}

export interface VerifyOptions extends BucketOptions {
  /** Subvolumes to check (all when absent or empty): the configured ones, or on a host with none configured, those in the bucket. */
  readonly subvolumes?: readonly string[];
  /** Default `{ reads: 'none' }`: existence and size only. */
  readonly reads?: VerifyReads;
}

/** Something checked is missing or damaged; carries the whole report. */
export class DamagedBackupError extends BtrfsToS3Error {
  constructor(readonly report: VerifyReport) {
    const failed = report.subvolumes.filter((entry) => !entry.ok).map((entry) => `${entry.subvolume} (${entry.problems.length})`);
    const total = report.subvolumes.reduce((sum, entry) => sum + entry.problems.length, 0);
    super(`verify found ${total} problem(s): ${failed.join(', ')}`, { exitCode: ExitCode.Fatal });
  }
}

/**
 * Remote integrity without a restore, per selected subvolume: the chain from
 * current.json back to its full resolves (every manifest read and checked), every
 * chunk of it exists with its recorded size, and, as `mode` asks, chunks are
 * re-downloaded and re-hashed (each part, each chunk, and the whole stream when every
 * chunk of a backup was read). Archived chunks that are not thawed are skipped, not
 * failed. Resolves with the report when everything checked is intact; throws
 * DamagedBackupError (exit 1) with it otherwise.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const mode = options.reads ?? { reads: 'none' };
  const wanted = options.subvolumes ?? [];
  const { subvolumes: configured } = options.config;
  // An unknown name fails before any request where subvolumes are configured.
  const selected =
    configured === undefined ? undefined : selectSubvolumes({ subvolumes: configured }, wanted).map((entry) => entry.subvolume);
  const logger = options.logger ?? silentLogger();
  const now = options.deps?.now ?? (() => new Date());
  const record = (outcomes: readonly { subvolume: string; ok: boolean; problem: string | null }[]) =>
    recordChecks(
      options.config,
      logger,
      'verify',
      outcomes.map((outcome) => ({
        labels: { subvolume: outcome.subvolume, reads: mode.reads },
        ok: outcome.ok,
        last_attempt_at: now().toISOString(),
        problem: outcome.problem,
      })),
    );
  let report: VerifyReport;
  try {
    report = await withBucketContext(options, async (context): Promise<VerifyReport> => {
      const subvolumes: VerifySubvolume[] = [];
      for (const subvolume of selected ?? (await subvolumesInBucket(context, wanted)))
        subvolumes.push(await verifySubvolume(context, subvolume, mode));
      await recordInventory(context.config, logger, () => listSubvolumeObjects(context), context.now);
      return {
        ok: subvolumes.every((entry) => entry.ok),
        reads: mode.reads,
        sample: mode.reads === 'sample' ? mode.count : null,
        subvolumes,
      };
    });
  } catch (error) {
    // A verify that could not finish failed for every subvolume it was to check; a bad selection checked nothing.
    const problem = error instanceof Error ? error.message : String(error);
    if (!(error instanceof BtrfsToS3Error && error.exitCode === ExitCode.Usage))
      await record((selected ?? wanted).map((subvolume) => ({ subvolume, ok: false, problem })));
    throw error;
  }
  await record(
    report.subvolumes.map((entry) => ({ subvolume: entry.subvolume, ok: entry.ok, problem: entry.problems[0]?.message ?? null })),
  );
  if (!report.ok) throw new DamagedBackupError(report);
  return report;
}

/** Without configured subvolumes (a new host): those in the bucket, or the wanted ones among them. */
async function subvolumesInBucket(context: BucketContext, wanted: readonly string[]): Promise<string[]> {
  const found = [...(await listSubvolumeObjects(context)).keys()].sort();
  const unknown = wanted.filter((name) => !found.includes(name));
  if (unknown.length > 0) throw new UnknownListedSubvolumeError(unknown, found);
  return wanted.length === 0 ? found : [...wanted];
}

async function resolve(context: BucketContext, subvolume: string): Promise<{ startKey: string; chain: ChainLink[] } | VerifyProblem> {
  const source = manifestSource(context.bucket);
  const pointer = pointerKey(context.config.s3.prefix, subvolume);
  let startKey: string;
  try {
    startKey = await resolveStartKey(source, context.config.s3.prefix, subvolume);
  } catch (error) {
    if (!(error instanceof ChainError || error instanceof FormatError)) throw error;
    return {
      key: pointer,
      problem: error instanceof ChainError ? 'no-backup' : 'chain',
      message: error.message,
      expected: null,
      actual: null,
    };
  }
  try {
    return { startKey, chain: await resolveChain(source, startKey, subvolume) };
  } catch (error) {
    if (!(error instanceof ChainError || error instanceof FormatError)) throw error;
    return { key: startKey, problem: 'chain', message: error.message, expected: null, actual: null };
  }
}

async function verifySubvolume(context: BucketContext, subvolume: string, mode: VerifyReads): Promise<VerifySubvolume> {
  const resolved = await resolve(context, subvolume);
  if (!('chain' in resolved)) {
    context.logger.error(`${subvolume}: ${resolved.message}`);
    return {
      subvolume,
      ok: false,
      currentManifest: null,
      chain: [],
      chunks: { total: 0, present: 0, read: 0, skipped: 0 },
      streamsVerified: 0,
      problems: [resolved],
      skipped: [],
    };
  }
  return verifyChain(context, subvolume, resolved.startKey, resolved.chain, mode);
}

/** What checking a resolved chain reads through. A restore's context is one too. */
export interface ChainCheckContext {
  readonly config: RemoteConfig;
  readonly logger: Logger;
  readonly bucket: S3Bucket;
}

/**
 * Checks one resolved chain (oldest first, ending at `startKey`): every chunk exists
 * with its recorded size, and the chunks `mode` selects are re-downloaded and
 * re-hashed. A damaged or missing chunk is a problem in the result, not an error;
 * parts too large to re-hash here (partMemoryLimit) throw PartLimitError before any read.
 */
export async function verifyChain(
  context: ChainCheckContext,
  subvolume: string,
  startKey: string,
  links: readonly ChainLink[],
  mode: VerifyReads,
): Promise<VerifySubvolume> {
  const problems: VerifyProblem[] = [];
  const skipped: VerifySubvolume['skipped'] = [];
  const chain: VerifySubvolume['chain'] = [];
  const chunks = { total: 0, present: 0, read: 0, skipped: 0 };
  let streamsVerified = 0;
  // Before any GET: the config, not a manifest from the bucket, sizes a re-hash's memory (PartLimitError, exit 2).
  if (mode.reads !== 'none') for (const link of links) assertPartsWithin(link.key, link.manifest, partMemoryLimit(context.config));
  for (const link of links) {
    const { manifest } = link;
    const reads: ChunkReads = mode.reads === 'sample' ? { sample: mode.count, seed: sampleSeed(link.key, mode.round) } : mode.reads;
    context.logger.info(
      `${subvolume}: checking ${manifest.chunks.length} chunk(s) of ${link.key}${reads === 'none' ? '' : ' and re-hashing what is read'}`,
    );
    // Encoded chunks are checked as stored (parts and chunk hashes), which needs no key; their send stream only a restore or drill decodes.
    const result = await context.bucket.checkChunks(manifest.chunks, storedStreamSha256(manifest), {
      reads,
      concurrency: context.config.s3.concurrency,
      maxPartSizeBytes: partMemoryLimit(context.config),
    });
    const found = result.chunks.map(findingProblem).filter((problem): problem is VerifyProblem => problem !== undefined);
    if (result.stream.checked && result.stream.actual !== result.stream.expected) {
      const { expected, actual } = result.stream;
      found.push({
        key: link.key,
        problem: 'stream',
        message: `STREAM ${link.key}: the chunks concatenated hash to sha256 ${actual}, the manifest records ${expected}`,
        expected,
        actual,
      });
    } else if (result.stream.checked) streamsVerified += 1;
    for (const finding of result.chunks) {
      if (finding.status === 'archived')
        skipped.push({ key: finding.key, storageClass: finding.storageClass, reason: 'not readable without a thaw (run restore to thaw)' });
    }
    const read = result.chunks.filter((finding) => finding.status === 'ok' && finding.read).length;
    const skippedHere = result.chunks.filter((finding) => finding.status === 'archived').length;
    chunks.total += manifest.chunks.length;
    chunks.present += result.chunks.filter((finding) => finding.status !== 'missing' && finding.status !== 'size-mismatch').length;
    chunks.read += read;
    chunks.skipped += skippedHere;
    chain.push({
      manifestKey: link.key,
      kind: manifest.kind,
      createdAt: manifest.created_at,
      chunks: manifest.chunks.length,
      read,
      skipped: skippedHere,
      damaged: found.length,
    });
    for (const problem of found) context.logger.error(`${subvolume}: ${problem.message}`);
    problems.push(...found);
  }
  return { subvolume, ok: problems.length === 0, currentManifest: startKey, chain, chunks, streamsVerified, problems, skipped };
}

/** One line per damaged chunk, naming the key and expected vs actual. */
function findingProblem(finding: ChunkFinding): VerifyProblem | undefined {
  const { key } = finding;
  switch (finding.status) {
    case 'ok':
    case 'archived':
      return undefined;
    case 'missing':
      return {
        key,
        problem: 'missing',
        message: `MISSING ${key}: expected ${finding.expectedSize} bytes, the object does not exist`,
        expected: String(finding.expectedSize),
        actual: null,
      };
    case 'size-mismatch':
      return {
        key,
        problem: 'size',
        message: `SIZE ${key}: expected ${finding.expectedSize} bytes, found ${finding.actualSize}`,
        expected: String(finding.expectedSize),
        actual: String(finding.actualSize),
      };
    case 'hash-mismatch': {
      const where = finding.partNumber === undefined ? '' : ` part ${finding.partNumber}`;
      return {
        key,
        problem: 'hash',
        message: `HASH ${key}${where}: expected ${finding.subject} ${finding.expected}, got ${finding.actual}`,
        expected: finding.expected,
        actual: finding.actual,
      };
    }
    case 'unreadable':
      return { key, problem: 'unreadable', message: `UNREADABLE ${key}: ${finding.message}`, expected: null, actual: null };
  }
}
