import { type LockInfo, lockHolder, nextDue, readState, subvolumeName } from '@org/btrfs-s3-core';
import { BaseCommand } from '../base-command';

export interface SubvolumeStatus {
  readonly subvolume: string;
  readonly path: string;
  readonly lastBackupAt: string | null;
  readonly lastKind: 'full' | 'inc' | null;
  readonly lastSnapshot: string | null;
  readonly lastManifest: string | null;
  readonly lastFullAt: string | null;
  /** Null before the first backup: a first run backs up at once. */
  readonly nextIncrementalAt: string | null;
  readonly nextFullAt: string | null;
}

export interface StatusResult {
  readonly lastRunAt: string | null;
  readonly lock: LockInfo | null;
  readonly subvolumes: readonly SubvolumeStatus[];
}

export default class Status extends BaseCommand {
  static override summary = 'Show the last backup of each subvolume, when the next is due, and who holds the lock.';
  static override description = 'Reads only local files (config, state, lock): no Btrfs or S3 access.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static override enableJsonFlag = true;

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(Status);
    const { config } = await this.context(flags);
    const state = await readState(config.global.state_path);
    const holder = await lockHolder(config.global.lock_path);
    const subvolumes = config.subvolumes.paths.map((path): SubvolumeStatus => {
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
    }
    return { lastRunAt: state.last_run_at, lock: holder ?? null, subvolumes };
  }
}
