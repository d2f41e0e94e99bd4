import type { LastRun, StatusResult } from '@org/btrfs-s3-backup';
import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';
import { BaseCommand } from '@org/btrfs-s3-command';
import { describeResume } from '../describe';

export default class Status extends BaseCommand {
  static override summary = 'Show the last backup of each subvolume with its run metrics, when the next is due, and who holds the lock.';
  static override description =
    "Reads only local files (config, state, lock, the last run's metrics at global.metrics_path): no Btrfs or S3 access.";
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static override enableJsonFlag = true;

  async run(): Promise<StatusResult> {
    const { readStatus } = await import('@org/btrfs-s3-backup');
    const { flags } = await this.parse(Status);
    const { config, logger } = await this.context(flags);
    const status = await readStatus({ config, logger });
    const { lastRunAt: lastRun, lock: holder, subvolumes } = status;
    this.log(`last run: ${lastRun ?? 'never'}`);
    this.log(`lock: ${holder === null ? 'free' : `held by PID ${holder.pid} since ${holder.started_at}`}`);
    for (const entry of subvolumes) {
      this.log(
        entry.lastBackupAt === null
          ? `${entry.subvolume}: never backed up; the next run makes a full`
          : `${entry.subvolume}: last ${entry.lastKind} at ${entry.lastBackupAt} (${entry.lastSnapshot}); next incremental ${entry.nextIncrementalAt}, next full ${entry.nextFullAt}`,
      );
      if (entry.lastRun !== null) this.log(`  last run ${entry.lastRun.finishedAt}: ${describeLastRun(entry.lastRun)}`);
      if (entry.pendingResume !== null) this.log(`  ${describeResume(entry.pendingResume)}`);
    }
    return status;
  }
}

function describeLastRun(run: LastRun): string {
  if (run.result !== 'published') return `${run.result}${run.detail === null ? '' : ` (${run.detail})`}`;
  const bytes = run.bytes ?? 0;
  const seconds = run.elapsedSeconds ?? 0;
  return `${run.kind ?? ''} published, ${formatBytes(bytes)} in ${run.chunks ?? 0} chunk(s), ${run.parts ?? 0} part(s), ${run.retries ?? 0} retries, ${seconds.toFixed(1)} s (${formatRate(bytes, seconds)})`;
}
