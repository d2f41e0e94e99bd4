import { Flags } from '@oclif/core';
import type { BackupResult } from '@org/btrfs-s3-backup';
import { BaseCommand } from '@org/btrfs-s3-command';
import { backupDeps, progressListener, progressLogStream } from '../deps';
import { describeOutcome, describePlan } from '../describe';
import { selectionFlags } from '../flags';
import { withInterrupts } from '../interrupts';
import { requireRoot } from '../require-root';
import type { Writable } from 'node:stream';

export default class Backup extends BaseCommand {
  static override summary = 'Snapshot the configured subvolumes and upload what is due to S3.';
  static override description = `Takes the lock, aborts stale multipart uploads, plans (see \`plan\`), then per subvolume: read-only snapshot, \`btrfs send\` streamed into chunked multipart uploads, manifest, and only then current.json. One subvolume failing does not stop the others (exit code 4).`;
  static override examples = [
    '<%= config.bin %> backup',
    '<%= config.bin %> backup --once --subvolume data',
    '<%= config.bin %> backup --dry-run',
    '<%= config.bin %> backup --max-upload-rate 40Mbit',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    ...selectionFlags,
    'dry-run': Flags.boolean({ summary: 'Print the plan and change nothing.' }),
    'no-s3': Flags.boolean({ summary: 'Take the snapshots only; no S3 access.', exclusive: ['dry-run'] }),
    'take-over': Flags.boolean({
      summary:
        "Back up even where current.json was written by another host: for a rebuilt host resuming the old host's prefix after a disaster. Never for two live hosts.",
      exclusive: ['no-s3'],
    }),
    'no-resume': Flags.boolean({
      summary:
        'Start afresh instead of resuming an interrupted backup: its snapshot and open upload are cleaned up, its chunks left to prune.',
      exclusive: ['no-s3'],
    }),
    'max-upload-rate': Flags.string({
      summary: 'Cap the upload rate for this run, e.g. 50Mbit or 6MiB/s (overrides s3.max_upload_rate).',
      exclusive: ['no-s3'],
    }),
  };

  /** Log lines go above the progress bar while it is drawn. */
  protected override logStream(): Writable {
    return progressLogStream();
  }

  async run(): Promise<BackupResult> {
    const { BackupFailedError, runBackup } = await import('@org/btrfs-s3-backup');
    const { flags } = await this.parse(Backup);
    const { config, logger } = await this.context(flags, { max_upload_rate: flags['max-upload-rate'] });
    requireRoot('backup');
    try {
      const result = await withInterrupts(logger, { what: 'the backup in progress' }, (signal) =>
        runBackup({
          config,
          once: flags.once,
          full: flags.full,
          subvolumes: flags.subvolume ?? [],
          dryRun: flags['dry-run'],
          noS3: flags['no-s3'],
          noResume: flags['no-resume'],
          takeOver: flags['take-over'],
          logger,
          signal,
          onProgress: progressListener(config, logger, { json: this.jsonEnabled() }),
          deps: backupDeps(this.config.version),
        }),
      );
      for (const line of result.dryRun ? result.plan.map(describePlan) : result.outcomes.map(describeOutcome)) this.log(line);
      return result;
    } catch (error) {
      if (error instanceof BackupFailedError) for (const line of error.result.outcomes.map(describeOutcome)) this.log(line);
      throw error;
    }
  }
}
