import { BtrfsToS3Error, ExitCode, resolveChain } from '@org/btrfs-s3-core';
import type { BackupContext } from './context';

/**
 * `s3.object_lock`: after a backup is published, every object of the chain current.json
 * now reaches (its manifests and chunks, back to the full) is kept locked until `days`
 * from now, as a write made now would be, so a full stays locked as long as backups keep
 * building on it: its first lock, taken months ago, would otherwise run out while the
 * chain is still the one a restore needs. The new backup's own objects were locked as
 * they were written, so they are left out; for the rest, S3Bucket.extendRetention reads
 * each retention first and sets only those that end sooner (one read per object and
 * run, and a write where it extends). Without `s3.object_lock`, does nothing. A failure
 * fails the subvolume's run (the backup stays published): its older objects may be
 * left with less retention than asked for.
 */
export async function keepChainLocked(context: BackupContext, subvolume: string, manifestKey: string): Promise<void> {
  const lock = context.config.s3.object_lock;
  if (lock === undefined) return;
  const source = { readText: (key: string) => context.bucket.readTextIfExists(key) };
  const chain = await resolveChain(source, manifestKey, subvolume);
  const older = chain.filter((link) => link.key !== manifestKey);
  const keys = older.flatMap((link) => [link.key, ...link.manifest.chunks.map((chunk) => chunk.key)]);
  if (keys.length === 0) return;
  let result: Awaited<ReturnType<typeof context.bucket.extendRetention>>;
  try {
    result = await context.bucket.extendRetention(keys);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new BtrfsToS3Error(`published ${manifestKey}, but keeping its chain locked (s3.object_lock) failed: ${message}`, {
      exitCode: ExitCode.Fatal,
      cause: error,
    });
  }
  const { checked, extended } = result;
  context.logger.info(
    `${subvolume}: Object Lock: the ${older.length} older backup(s) of the current chain stay locked for ${lock.days} more day(s) (${extended} of ${checked} object(s) extended)`,
  );
}
