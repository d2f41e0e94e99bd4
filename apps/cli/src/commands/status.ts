import { lockHolder, nextDue, readState, subvolumeName } from '@org/btrfs-s3-core';
import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';
import { BaseCommand } from '../base-command';
import { readLastRuns } from '../jobs/last-run';
import type { LastRun, StatusResult, StatusSubvolume } from '../output-schemas';

export default class Status extends BaseCommand {
  static override summary = 'Show the last backup of each subvolume with its run metrics, when the next is due, and who holds the lock.';
  static override description = 'Reads only local files (config, state, lock, the last run\'s metrics at global.metrics_path): no Btrfs or S3 access.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static override enableJsonFlag = true;

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(Status);
    const { config, logger } = await this.context(flags);
    const state = await readState(config.global.state_path);
    const holder = await lockHolder(config.global.lock_path);
    const lastRuns = await readLastRuns(config.global.metrics_path, logger);
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
      };
    });
    this.log(`last run: ${state.last_run_at ?? 'never'}`);
    this.log(`lock: ${holder === undefined ? 'free' : `held by PID ${holder.pid} since ${holder.started_at}`}`);
    for (const entry of subvolumes) {
      this.log(
        entry.lastBackupAt === null
          ? `${entry.subvolume}: never backed up; the next run makes a full`
          : `${entry.subvolume}: last ${entry.lastKind} at ${entry.lastBackupAt} (${entry.lastSnapshot}); next incremental ${entry.nextIncrementalAt}, next full ${entry.nextFullAt}`,
      );
      if (entry.lastRun !== null) this.log(`  last run ${entry.lastRun.finishedAt}: ${describeLastRun(entry.lastRun)}`);
    }
    return { lastRunAt: state.last_run_at, lock: holder ?? null, subvolumes };
  }
}

function describeLastRun(run: LastRun): string {
  if (run.result !== 'published') return `${run.result}${run.detail === null ? '' : ` (${run.detail})`}`;
  const bytes = run.bytes ?? 0;
  const seconds = run.elapsedSeconds ?? 0;
  return `${run.kind ?? ''} published, ${formatBytes(bytes)} in ${run.chunks ?? 0} chunk(s), ${run.parts ?? 0} part(s), ${run.retries ?? 0} retries, ${seconds.toFixed(1)} s (${formatRate(bytes, seconds)})`;
}
