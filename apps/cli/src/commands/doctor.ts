import { Flags } from '@oclif/core';
import type { DoctorCheck, DoctorReport } from '@org/btrfs-s3-backup';
import { BaseCommand } from '@org/btrfs-s3-command';
import { withInterrupts } from '../interrupts';

/** The backup package, loaded by the first run (--help starts without it); no doctor error exists before. */
let backup: typeof import('@org/btrfs-s3-backup') | undefined;

export default class Doctor extends BaseCommand {
  static override summary = 'Check this host and the bucket before the first backup: root, btrfs, paths, credentials, writes, clock.';
  static override description = `Runs every check and reports each: root; btrfs-progs; each configured subvolume; the snapshot directory on Btrfs; every local path a run writes; credentials and listing the bucket under the prefix; the clock against the store's; a manifest-class object (conditional PUT) and a chunk (multipart upload) written exactly as a backup writes them, with the configured SSE, storage classes and checksum mode, then deleted; versioning and Object Lock. A refused write is tried again with one setting changed, to name the key the store refuses. Probes go under <prefix>/doctor/, which list, restore and prune never read. Exit 0 when no check failed (warnings allowed), 1 otherwise.`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --no-s3', '<%= config.bin %> doctor --json'];
  static override enableJsonFlag = true;
  static override flags = {
    s3: Flags.boolean({ default: true, allowNo: true, summary: 'Check the bucket too (--no-s3: local checks only, no request).' }),
  };

  async run(): Promise<DoctorReport> {
    backup ??= await import('@org/btrfs-s3-backup');
    const { DoctorFailedError, runDoctor } = backup;
    const { flags } = await this.parse(Doctor);
    const { config, logger } = await this.context(flags);
    try {
      // The report is printed once, at the end; runDoctor's own log lines would repeat it.
      const work = { what: 'the checks', outcome: 'a probe object may be left under <prefix>/doctor/' };
      const report = await withInterrupts(logger, work, (signal) => runDoctor({ config, signal, noS3: !flags.s3 }));
      for (const line of renderChecks(report.checks)) this.log(line);
      return report;
    } catch (error) {
      if (error instanceof DoctorFailedError && !this.jsonEnabled()) for (const line of renderChecks(error.report.checks)) this.log(line);
      throw error;
    }
  }

  /** A failed doctor's JSON keeps the report: which check failed is the point. */
  protected override toErrorJson(error: unknown): unknown {
    const base = super.toErrorJson(error);
    return backup !== undefined && error instanceof backup.DoctorFailedError && typeof base === 'object' && base !== null
      ? { ...base, report: error.report }
      : base;
  }
}

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skipped: 'skip' } as const;

function renderChecks(checks: readonly DoctorCheck[]): string[] {
  return checks.map((check) => `${MARK[check.status]}  ${check.check}: ${check.detail}`);
}
