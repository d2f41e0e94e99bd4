import {
  type Config,
  type Logger,
  lockHolder,
  nextDue,
  readState,
  silentLogger,
  subvolumeName,
  withLegacyStatePaths,
} from '@org/btrfs-s3-core';
import { readLastRuns } from './last-run';
import { pendingResume } from './resume';
import type { StatusResult, StatusSubvolume } from './schemas';

export interface StatusOptions {
  readonly config: Config;
  /** Warnings (an unreadable metrics file) go here; silent when absent. */
  readonly logger?: Logger;
}

/**
 * The last backup of each configured subvolume with its run metrics, when the next
 * is due, and who holds the lock. Reads only local files (state, lock, the last
 * run's metrics at `global.metrics_path`): no Btrfs or S3 access.
 */
export async function readStatus(options: StatusOptions): Promise<StatusResult> {
  // Before the first backup after an upgrade, the state is still at an earlier release's default path.
  const config = await withLegacyStatePaths(options.config);
  const state = await readState(config.global.state_path);
  const holder = await lockHolder(config.global.lock_path);
  const lastRuns = await readLastRuns(config.global.metrics_path, options.logger ?? silentLogger());
  const now = new Date();
  const resumes = new Map<string, Awaited<ReturnType<typeof pendingResume>>>();
  for (const path of config.subvolumes.paths) resumes.set(subvolumeName(path), await pendingResume(config, subvolumeName(path), now));
  const subvolumes = config.subvolumes.paths.map((path): StatusSubvolume => {
    const subvolume = subvolumeName(path);
    const last = state.subvolumes[subvolume];
    const due = last === undefined ? undefined : nextDue(config.schedule, last);
    return {
      subvolume,
      path,
      lastBackupAt: last?.last_backup_at ?? null,
      lastKind: last?.last_kind ?? null,
      lastSnapshot: last?.last_snapshot ?? null,
      lastManifest: last?.last_manifest ?? null,
      lastFullAt: last?.last_full_at ?? null,
      nextIncrementalAt: due?.nextIncrementalAt.toISOString() ?? null,
      nextFullAt: due?.nextFullAt.toISOString() ?? null,
      lastRun: lastRuns.get(subvolume) ?? null,
      pendingResume: resumes.get(subvolume) ?? null,
    };
  });
  return { lastRunAt: state.last_run_at, lock: holder ?? null, subvolumes };
}
