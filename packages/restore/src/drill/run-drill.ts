import { sampledChunks, verifyChain } from '@org/btrfs-s3-bucket';
import {
  BtrfsToS3Error,
  ChainError,
  type ChainLink,
  errnoCode,
  ExitCode,
  FormatError,
  migrateLegacyStatePaths,
  selectSubvolumes,
  silentLogger,
  ThawPendingError,
  withActivity,
} from '@org/btrfs-s3-core';
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { assertSubvolumeName, RestoreInputError } from '../errors';
import { preflight } from '../preflight';
import type { RestoreContext } from '../receive';
import { removeReceived } from '../receive';
import type { OpenedLink } from '../open-chain';
import { chainFor, type PreparedRestore, restoreChain, type RestoreContextOptions, thawKeys, withRestoreContext } from '../run-restore';
import type { VerifyMode } from '../verify';
import { recordDrill } from './record';
import type { DrilledSubvolume, DrillResult } from './schemas';

export interface DrillOptions extends RestoreContextOptions {
  /** The subvolumes to drill: default every configured one. A host with none configured must name them. */
  readonly subvolumes?: readonly string[];
  /** An existing directory on Btrfs for full drills; default `drill.scratch_dir`. Left as it was found. */
  readonly scratch?: string;
  /** Thaw archived chains and drill them fully (retrieval fees for the whole chain). */
  readonly thaw?: boolean;
  /**
   * For archived chains, unless `thaw`: thaw this many chunks per backup, chosen as
   * `verify --sample` chooses them but rotating month to month, and re-hash them
   * against the manifest (no receive). Chains readable without a thaw are drilled fully.
   */
  readonly sample?: number;
  /** The age identity file for encrypted backups; default `encryption.identity_file`. */
  readonly identityFile?: string;
  /** The tree comparison of a full drill; default `restore.verify_mode`. */
  readonly verify?: VerifyMode;
  readonly skipSpaceCheck?: boolean;
}

/** At least one drill failed; carries the whole result. Exit 5 when every failure is a thaw still running, else 1. */
export class DrillFailedError extends BtrfsToS3Error {
  constructor(
    readonly result: DrillResult,
    thawPending: boolean,
  ) {
    const failed = result.subvolumes.filter((entry) => !entry.ok).map((entry) => `${entry.subvolume}: ${entry.problem ?? 'failed'}`);
    super(`drill failed: ${failed.join('; ')}`, { exitCode: thawPending ? ExitCode.RestorePending : ExitCode.Fatal });
  }
}

const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

type Planned =
  | { readonly subvolume: string; readonly mode: 'full'; readonly prepared: PreparedRestore }
  | { readonly subvolume: string; readonly mode: 'sample'; readonly chain: readonly OpenedLink[] }
  | { readonly subvolume: string; readonly mode: 'full' | 'sample'; readonly unresolved: string };

/**
 * Proves that backups restore, per subvolume: resolves the current chain, then
 * either restores it into a fresh directory under the scratch directory, verifies it
 * (every part's hash, the Received UUID, the tree against the source snapshot when it
 * is on this host) and deletes it, pass or fail (`full`); or, for an archived chain
 * with `sample`, thaws and re-hashes a few chunks per backup (`sample`). Every input
 * problem, an archived chain without `thaw` or `sample`, and a failed preflight stop
 * the drill (exit 2) before any thaw request or download.
 *
 * Each outcome is recorded beside the metrics file (and the Prometheus textfile, when
 * configured): a failed drill keeps the last success time. Resolves when every drill
 * passed; throws DrillFailedError with the result otherwise.
 */
export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const subvolumes = drillSubvolumes(options);
  if (options.sample !== undefined && !(Number.isInteger(options.sample) && options.sample > 0))
    throw new RestoreInputError(`--sample: must be a whole number of chunks above 0, got ${options.sample}`);
  // The drill's record is kept beside the metrics: an upgrade's first drill brings it from an earlier release's default path.
  const config = await migrateLegacyStatePaths(options.config, options.logger ?? silentLogger());
  const { result, thawPending } = await withActivity(config.global.lock_path, 'restore', () =>
    drillAll({ ...options, config }, subvolumes),
  );
  if (!result.ok) throw new DrillFailedError(result, thawPending);
  return result;
}

/** Every drill in turn, each recorded as it ends; `thawPending` when every failure was a thaw still running. */
async function drillAll(options: DrillOptions, subvolumes: readonly string[]): Promise<{ result: DrillResult; thawPending: boolean }> {
  return withRestoreContext(options, async (context) => {
    const planned: Planned[] = [];
    for (const subvolume of subvolumes) planned.push(await planDrill(context, options, subvolume));
    const scratch = planned.some((plan) => plan.mode === 'full' && 'prepared' in plan) ? await drillScratch(options) : null;
    const ready = scratch === null ? planned : await preflightAll(context, options, planned, scratch);
    const drilled: DrilledSubvolume[] = [];
    let thawPending = true;
    for (const plan of ready) {
      context.signal.throwIfAborted();
      const started = context.now();
      const outcome = await drillOne(context, options, plan, scratch);
      if (!outcome.ok && !outcome.thawPending) thawPending = false;
      const entry = { ...outcome.entry, elapsedSeconds: (context.now().getTime() - started.getTime()) / 1000 };
      await recordDrill(context.config, context.logger, {
        subvolume: entry.subvolume,
        mode: entry.mode,
        ok: entry.ok,
        last_attempt_at: context.now().toISOString(),
        manifest_key: entry.manifestKey,
        problem: entry.problem,
      });
      if (entry.ok) context.logger.info(`${entry.subvolume}: ${entry.mode} drill passed`);
      else context.logger.error(`${entry.subvolume}: ${entry.mode} drill FAILED: ${entry.problem ?? ''}`);
      drilled.push(entry);
    }
    return { result: { ok: drilled.every((entry) => entry.ok), scratch, subvolumes: drilled }, thawPending };
  });
}

/** The configured subvolumes (or the named ones among them); on a host with none configured, the named ones. */
function drillSubvolumes(options: DrillOptions): string[] {
  const wanted = options.subvolumes ?? [];
  const { subvolumes: configured } = options.config;
  const names =
    configured === undefined ? [...wanted] : selectSubvolumes({ subvolumes: configured }, wanted).map((entry) => entry.subvolume);
  if (names.length === 0)
    throw new RestoreInputError('--subvolume: name the subvolumes to drill (this host has no [subvolumes] to drill by default)');
  for (const name of names) assertSubvolumeName(name);
  return names;
}

/** The scratch directory: given, absolute, an existing directory. The preflight checks Btrfs, writability and space. */
async function drillScratch(options: DrillOptions): Promise<string> {
  const scratch = options.scratch ?? options.config.drill.scratch_dir;
  if (scratch === undefined)
    throw new RestoreInputError(
      '--scratch (or drill.scratch_dir) is required: an existing directory on Btrfs where the drill restores and deletes',
    );
  if (!isAbsolute(scratch)) throw new RestoreInputError(`--scratch: must be an absolute path, got ${JSON.stringify(scratch)}`);
  const found = await stat(scratch).catch((error: unknown) => errnoCode(error) ?? String(error));
  if (typeof found === 'string' || !found.isDirectory())
    throw new RestoreInputError(
      `--scratch ${scratch}: ${typeof found === 'string' ? found : 'not a directory'}; create a directory on Btrfs for drills`,
    );
  return scratch;
}

/** The chain and the drill it gets; an archived chain without `thaw` or `sample` is refused before anything is spent. */
async function planDrill(context: RestoreContext, options: DrillOptions, subvolume: string): Promise<Planned> {
  const fallbackMode = options.sample !== undefined && options.thaw !== true ? 'sample' : 'full';
  let chain: OpenedLink[];
  try {
    chain = await chainFor(context, { subvolume, ...(options.identityFile === undefined ? {} : { identityFile: options.identityFile }) });
  } catch (error) {
    if (!(error instanceof ChainError || error instanceof FormatError)) throw error;
    return { subvolume, mode: fallbackMode, unresolved: error.message };
  }
  const archived = chain.filter((link) => ARCHIVE_CLASSES.has(link.manifest.s3.storage_class));
  if (archived.length === 0 || options.thaw === true)
    return { subvolume, mode: 'full', prepared: { chain, report: { neededBytes: 0, freeBytes: 0, spaceChecked: false, tools: [] } } };
  if (options.sample !== undefined) return { subvolume, mode: 'sample', chain };
  throw new RestoreInputError(
    `${subvolume}: ${archived.length} backup(s) of its chain are in ${archived[0]?.manifest.s3.storage_class}, readable only after a paid thaw: pass --thaw to thaw and restore the whole chain, or --sample N to thaw and re-hash N chunks per backup`,
  );
}

/** Every full drill's preflight against the scratch directory, before any thaw or download. */
async function preflightAll(
  context: RestoreContext,
  options: DrillOptions,
  planned: readonly Planned[],
  scratch: string,
): Promise<Planned[]> {
  const ready: Planned[] = [];
  for (const plan of planned) {
    if (plan.mode !== 'full' || !('prepared' in plan)) {
      ready.push(plan);
      continue;
    }
    const report = await preflight(context, plan.prepared.chain, scratch, {
      verify: options.verify ?? context.config.restore.verify_mode,
      skipSpaceCheck: options.skipSpaceCheck ?? false,
      targetFlag: '--scratch',
    });
    ready.push({ ...plan, prepared: { chain: plan.prepared.chain, report } });
  }
  return ready;
}

type Outcome = { readonly ok: boolean; readonly thawPending: boolean; readonly entry: Omit<DrilledSubvolume, 'elapsedSeconds'> };

async function drillOne(context: RestoreContext, options: DrillOptions, plan: Planned, scratch: string | null): Promise<Outcome> {
  const base = { subvolume: plan.subvolume, mode: plan.mode };
  if ('unresolved' in plan) return failed(base, null, 0, plan.unresolved, false);
  const chain = 'prepared' in plan ? plan.prepared.chain : plan.chain;
  const manifestKey = chain[chain.length - 1]?.key ?? null;
  try {
    if ('prepared' in plan && scratch !== null) return await drillFull(context, options, plan.prepared, scratch, base, manifestKey);
    return await drillSample(context, options, chain, base, manifestKey);
  } catch (error) {
    if (context.signal.aborted) throw error;
    if (!(error instanceof BtrfsToS3Error)) throw error;
    return failed(base, manifestKey, chain.length, error.message.split('\n')[0] ?? '', error instanceof ThawPendingError);
  }
}

function failed(
  base: Pick<DrilledSubvolume, 'subvolume' | 'mode'>,
  manifestKey: string | null,
  backups: number,
  problem: string,
  thawPending: boolean,
): Outcome {
  return {
    ok: false,
    thawPending,
    entry: { ...base, ok: false, manifestKey, backups, chunksRead: 0, bytes: 0, verification: null, problem },
  };
}

function passed(
  base: Pick<DrilledSubvolume, 'subvolume' | 'mode'>,
  manifestKey: string | null,
  proof: Pick<DrilledSubvolume, 'backups' | 'chunksRead' | 'bytes' | 'verification'>,
): Outcome {
  return { ok: true, thawPending: false, entry: { ...base, ok: true, manifestKey, ...proof, problem: null } };
}

/** Restores the chain into a new directory under the scratch directory, verified, and deletes it whatever happened. */
async function drillFull(
  context: RestoreContext,
  options: DrillOptions,
  prepared: PreparedRestore,
  scratch: string,
  base: Pick<DrilledSubvolume, 'subvolume' | 'mode'>,
  manifestKey: string | null,
): Promise<Outcome> {
  const target = join(scratch, `${base.subvolume}.drill-${context.now().toISOString().replace(/[-:.]/g, '')}`);
  const restoreOptions = {
    config: context.config,
    subvolume: base.subvolume,
    target,
    ...(options.verify === undefined ? {} : { verify: options.verify }),
  };
  // keepFailed false: on any failure the restore removes what it received.
  const restored = await restoreChain(context, restoreOptions, prepared, false);
  await removeReceived(
    context,
    restored.chain.map((link) => join(target, link.snapshot)),
    target,
    true,
  );
  context.logger.info(`${base.subvolume}: deleted the drill's restore at ${target}`);
  const { verification } = restored;
  return passed(base, manifestKey, {
    backups: restored.chain.length,
    chunksRead: prepared.chain.reduce((sum, link) => sum + link.manifest.chunks.length, 0),
    bytes: restored.bytes,
    verification:
      'skipped' in verification
        ? `Received UUID ${restored.receivedUuid} matches; tree comparison skipped: ${verification.skipped}`
        : `Received UUID ${restored.receivedUuid} matches; ${verification.compared} entries compared (${verification.mode}) with ${verification.source}`,
  });
}

/** Thaws `sample` chunks per backup (this month's choice) and re-hashes them; every other chunk is checked for presence and size. */
async function drillSample(
  context: RestoreContext,
  options: DrillOptions,
  chain: readonly ChainLink[],
  base: Pick<DrilledSubvolume, 'subvolume' | 'mode'>,
  manifestKey: string | null,
): Promise<Outcome> {
  const count = options.sample ?? 1;
  const round = context.now().toISOString().slice(0, 7); // the month: the choice rotates month to month
  const picked = chain.flatMap((link) => sampledChunks(link.key, link.manifest.chunks, count, round));
  context.logger.info(`${base.subvolume}: thawing ${picked.length} sampled chunk(s) of ${chain.length} backup(s) (${round}'s choice)`);
  await thawKeys(
    context,
    { subvolume: base.subvolume },
    picked.map((chunk) => chunk.key),
  );
  const report = await verifyChain(context, base.subvolume, manifestKey ?? '', chain, { reads: 'sample', count, round });
  const bytes = picked.reduce((sum, chunk) => sum + chunk.size, 0);
  const problem =
    report.problems[0]?.message ??
    (report.skipped[0] === undefined ? undefined : `${report.skipped[0].key} was still archived after its thaw`);
  if (problem !== undefined) return failed(base, manifestKey, chain.length, problem, false);
  return passed(base, manifestKey, { backups: chain.length, chunksRead: report.chunks.read, bytes, verification: null });
}
