import {
  parsePointer,
  parseWriterMarker,
  pointerKey,
  subvolumeName,
  subvolumePrefix,
  type Writer,
  WriterConflictError,
} from '@org/btrfs-s3-core';
import type { OpenUpload } from '@org/btrfs-s3-store';
import type { BackupContext } from './context';

/** An unpublished run (writer.json, no manifest) of another writer. */
export interface ForeignRun {
  readonly key: string;
  readonly dir: string;
  readonly writer: Writer;
}

/** What assertOwnPrefix listed of the prefix, for the dead-run recovery after it. */
export interface PrefixAtStart {
  /** Every other writer's unpublished run under the prefix, configured subvolume or not. */
  readonly foreign: readonly ForeignRun[];
  /** The open multipart uploads under the prefix. */
  readonly uploads: readonly OpenUpload[];
  /**
   * Every run directory under the prefix as the snapshot name it was made from
   * (`<subvolume>__<timestamp>__<kind>`), published or not: a new snapshot's name must
   * differ from all of them, since the run's keys are named by it (a failed run's
   * writer.json stays until the prune's grace has passed).
   */
  readonly runNames: readonly string[];
}

/**
 * One writer per prefix: for each configured subvolume, current.json must have been
 * written by this host (or by a version that did not record its writer). Another
 * host's pointer means two hosts share the prefix, and this run's recovery, uploads and
 * prune would break that host's chains: refuse (exit 2, naming the host) before
 * anything under the prefix is written, deleted or aborted. `takeOver` (a rebuilt host
 * resuming after a disaster) goes ahead; this host's next pointer makes it the writer.
 * Another host's unpublished run under a configured subvolume (its writer.json marker)
 * is refused the same way: this run's recovery would abort its uploads. Records each
 * pointer's ETag in `context.pointerEtags` for the conditional replacement, and its
 * text in `context.pointerTexts`.
 *
 * Returns what it listed for the recovery after it (PrefixAtStart): one listing of the
 * prefix serves both, and the pointers and the open uploads are read beside it, so the
 * start costs one round trip rather than two per subvolume and two more.
 */
export async function assertOwnPrefix(context: BackupContext, takeOver: boolean): Promise<PrefixAtStart> {
  const { config, logger, writer } = context;
  const subvolumes = config.subvolumes.paths.map(subvolumeName);
  const [pointersRead, foreignListed, uploadsListed] = await Promise.allSettled([
    Promise.all(subvolumes.map((subvolume) => context.bucket.readTextWithEtag(pointerKey(config.s3.prefix, subvolume)))),
    listRuns(context, `${config.s3.prefix}/subvol/`),
    context.bucket.listOpenUploads(`${config.s3.prefix}/`),
  ]);
  // A failure is reported as when these ran one by one: the pointers' first, whichever answered first.
  const reads = settled(pointersRead);
  const { foreign, runNames } = settled(foreignListed);
  const uploads = settled(uploadsListed);
  for (const [index, subvolume] of subvolumes.entries()) {
    const key = pointerKey(config.s3.prefix, subvolume);
    const read = reads[index];
    context.pointerEtags.set(subvolume, read?.etag ?? null);
    context.pointerTexts.set(subvolume, read?.text ?? null);
    const recorded = read === undefined ? undefined : parsePointer(key, read.text).writer;
    if (recorded !== undefined && recorded.id !== writer.id) {
      if (!takeOver) throw new WriterConflictError(key, recorded, writer);
      logger.warn(
        `${key}: taking over from host ${recorded.host} (writer ${recorded.id}) as ${writer.host} (writer ${writer.id}) (--take-over)`,
      );
    }
    const under = `${subvolumePrefix(config.s3.prefix, subvolume)}/`;
    for (const run of foreign.filter((candidate) => candidate.key.startsWith(under))) {
      if (!takeOver) throw new WriterConflictError(run.key, run.writer, writer);
      logger.warn(`${run.key}: an unpublished run of host ${run.writer.host}; taking over (--take-over)`);
    }
  }
  return { foreign, uploads, runNames };
}

function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** `<prefix><subvolume>/<full|inc>/<timestamp>/...`: the run directory a key is in. */
const RUN_KEY = /^([^/]+)\/(full|inc)\/(\d{8}T\d{6}Z)\//;

/**
 * One listing of `prefix` (`<s3.prefix>/subvol/`): another writer's runs that have not
 * published (a writer.json with no manifest.json beside it: uploads in progress, or a
 * run that failed; their directories are not this host's to abort or delete), and the
 * snapshot name of every run directory (PrefixAtStart.runNames).
 */
async function listRuns(context: BackupContext, prefix: string): Promise<{ foreign: ForeignRun[]; runNames: string[] }> {
  const keys = new Set((await context.bucket.listObjects(prefix)).map((object) => object.key));
  const runNames = new Set<string>();
  for (const key of keys) {
    const run = RUN_KEY.exec(key.slice(prefix.length));
    if (run !== null) runNames.add(`${run[1] ?? ''}__${run[3] ?? ''}__${run[2] ?? ''}`);
  }
  return { foreign: await foreignRuns(context, keys), runNames: [...runNames] };
}

async function foreignRuns(context: BackupContext, keys: ReadonlySet<string>): Promise<ForeignRun[]> {
  const runs: ForeignRun[] = [];
  for (const key of keys) {
    if (!key.endsWith('/writer.json')) continue;
    const dir = key.slice(0, -'/writer.json'.length);
    if (keys.has(`${dir}/manifest.json`)) continue;
    const text = await context.bucket.readTextIfExists(key);
    if (text === undefined) continue; // finished or cleaned up meanwhile
    const marker = parseWriterMarker(key, text);
    if (marker.writer.id !== context.writer.id) runs.push({ key, dir, writer: marker.writer });
  }
  return runs;
}
