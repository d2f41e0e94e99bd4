import {
  parsePointer,
  parseWriterMarker,
  pointerKey,
  subvolumeName,
  subvolumePrefix,
  type Writer,
  WriterConflictError,
} from '@org/btrfs-s3-core';
import type { BackupContext } from './context';

/**
 * One writer per prefix: for each configured subvolume, current.json must have been
 * written by this host (or by a version that did not record its writer). Another
 * host's pointer means two hosts share the prefix, and this run's recovery, uploads and
 * prune would break that host's chains: refuse (exit 2, naming the host) before
 * anything under the prefix is written, deleted or aborted. `takeOver` (a rebuilt host
 * resuming after a disaster) goes ahead; this host's next pointer makes it the writer.
 * Another host's unpublished run under a configured subvolume (its writer.json marker)
 * is refused the same way: this run's recovery would abort its uploads. Records each
 * pointer's ETag in `context.pointerEtags` for the conditional replacement.
 */
export async function assertOwnPrefix(context: BackupContext, takeOver: boolean): Promise<void> {
  const { config, logger, writer } = context;
  for (const path of config.subvolumes.paths) {
    const subvolume = subvolumeName(path);
    const key = pointerKey(config.s3.prefix, subvolume);
    const read = await context.bucket.readTextWithEtag(key);
    context.pointerEtags.set(subvolume, read?.etag ?? null);
    const recorded = read === undefined ? undefined : parsePointer(key, read.text).writer;
    if (recorded !== undefined && recorded.id !== writer.id) {
      if (!takeOver) throw new WriterConflictError(key, recorded, writer);
      logger.warn(
        `${key}: taking over from host ${recorded.host} (writer ${recorded.id}) as ${writer.host} (writer ${writer.id}) (--take-over)`,
      );
    }
    for (const run of await foreignRuns(context, `${subvolumePrefix(config.s3.prefix, subvolume)}/`)) {
      if (!takeOver) throw new WriterConflictError(run.key, run.writer, writer);
      logger.warn(`${run.key}: an unpublished run of host ${run.writer.host}; taking over (--take-over)`);
    }
  }
}

/**
 * Another writer's runs under `prefix` that have not published (a writer.json with no
 * manifest.json beside it): uploads in progress, or a run that failed. Their directories
 * are not this host's to abort or delete.
 */
export async function foreignRuns(context: BackupContext, prefix: string): Promise<{ key: string; dir: string; writer: Writer }[]> {
  const keys = new Set((await context.bucket.listObjects(prefix)).map((object) => object.key));
  const runs: { key: string; dir: string; writer: Writer }[] = [];
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
