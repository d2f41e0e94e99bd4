import { parsePointer, pointerKey, subvolumeName, WriterConflictError } from '@org/btrfs-s3-core';
import type { BackupContext } from './context';

/**
 * One writer per prefix: for each configured subvolume, current.json must have been
 * written by this host (or by a version that did not record its writer). Another
 * host's pointer means two hosts share the prefix, and this run's recovery, uploads and
 * prune would break that host's chains: refuse (exit 2, naming the host) before
 * anything under the prefix is written, deleted or aborted. `takeOver` (a rebuilt host
 * resuming after a disaster) goes ahead; this host's next pointer makes it the writer.
 * Records each pointer's ETag in `context.pointerEtags` for the conditional replacement.
 */
export async function assertOwnPrefix(context: BackupContext, takeOver: boolean): Promise<void> {
  const { config, logger, writer } = context;
  for (const path of config.subvolumes.paths) {
    const subvolume = subvolumeName(path);
    const key = pointerKey(config.s3.prefix, subvolume);
    const read = await context.bucket.readTextWithEtag(key);
    context.pointerEtags.set(subvolume, read?.etag ?? null);
    const recorded = read === undefined ? undefined : parsePointer(key, read.text).writer;
    if (recorded === undefined || recorded.id === writer.id) continue;
    if (!takeOver) throw new WriterConflictError(key, recorded, writer);
    logger.warn(
      `${key}: taking over from host ${recorded.host} (writer ${recorded.id}) as ${writer.host} (writer ${writer.id}) (--take-over)`,
    );
  }
}
