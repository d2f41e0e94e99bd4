import { existsSync } from 'node:fs';
import { RestoreVerificationError } from './errors';
import type { RestoreContext } from './receive';
import type { RestoreResult } from './result';
import { compareTrees, type VerifyMode } from './verify';

/** Compares the restored snapshot with the backed-up one when that is on this host; throws naming the differences. */
export async function verifyTree(
  context: RestoreContext,
  mode: VerifyMode,
  /** Where the backed-up snapshot was on the host that made it (the manifest's private section). */
  sourcePath: string,
  snapshotPath: string,
): Promise<RestoreResult['verification']> {
  if (mode === 'none') return { mode, skipped: '--verify none' };
  if (!existsSync(sourcePath)) return { mode, skipped: `the source snapshot ${sourcePath} is not on this host` };
  const comparison = await compareTrees(sourcePath, snapshotPath, {
    mode,
    sampleMaxFiles: context.config.restore.sample_max_files,
    runner: context.runner,
    signal: context.signal,
  });
  if (comparison.differences.length > 0) {
    const shown = comparison.differences.slice(0, 20).map((difference) => `  ${difference.path}: ${difference.what}`);
    const more = comparison.differences.length > 20 ? [`  ... and ${comparison.differences.length - 20} more`] : [];
    throw new RestoreVerificationError(
      `restored tree differs from ${sourcePath} in ${comparison.differences.length} place(s):\n${[...shown, ...more].join('\n')}`,
    );
  }
  context.logger.info(`verified ${comparison.compared} entries of ${snapshotPath} against ${sourcePath} (${mode})`);
  return { mode, source: sourcePath, compared: comparison.compared, differences: [...comparison.differences] };
}
