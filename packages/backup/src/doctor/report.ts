import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import * as v from 'valibot';

/**
 * What `doctor` found: one entry per check, in the order run. `fail`: a backup would
 * fail or could not be trusted; `warn`: it would run, but something costs money or hides
 * a problem; `skipped`: not checked, because an earlier check failed (the detail says which).
 */
export const DoctorCheckSchema = v.strictObject({
  /** Stable id, e.g. `root`, `btrfs`, `subvolume`, `bucket-access`, `chunk-write`, `clock`. */
  check: v.string(),
  status: v.picklist(['ok', 'warn', 'fail', 'skipped']),
  /** One line: what was found, and for a problem its cause and the config key or fix. */
  detail: v.string(),
});

export const DoctorReportSchema = v.strictObject({
  /** No check failed (warnings allowed). */
  ok: v.boolean(),
  checks: v.array(DoctorCheckSchema),
});

export type DoctorCheck = v.InferOutput<typeof DoctorCheckSchema>;
export type DoctorReport = v.InferOutput<typeof DoctorReportSchema>;

/** At least one check failed; carries the whole report. Exit 1. */
export class DoctorFailedError extends BtrfsToS3Error {
  constructor(readonly report: DoctorReport) {
    const failed = report.checks.filter((check) => check.status === 'fail');
    // The report (printed above it, or in --json) has each cause; the error names the checks.
    super(`doctor: ${failed.length} check(s) failed: ${[...new Set(failed.map((check) => check.check))].join(', ')}`, {
      exitCode: ExitCode.Fatal,
    });
  }
}

export const ok = (check: string, detail: string): DoctorCheck => ({ check, status: 'ok', detail });
export const warn = (check: string, detail: string): DoctorCheck => ({ check, status: 'warn', detail });
export const fail = (check: string, detail: string): DoctorCheck => ({ check, status: 'fail', detail });
export const skipped = (check: string, detail: string): DoctorCheck => ({ check, status: 'skipped', detail });
