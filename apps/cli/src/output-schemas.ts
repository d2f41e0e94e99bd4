import { DoctorReportSchema } from '@org/btrfs-s3-backup';
import { VerifyReportSchema } from '@org/btrfs-s3-bucket';
import { DrillResultSchema } from '@org/btrfs-s3-restore';
import * as v from 'valibot';

/** What every failing command prints with `--json` (BaseCommand.toErrorJson). */
export const ErrorOutputSchema = v.object({
  error: v.object({
    name: v.string(),
    message: v.string(),
    exitCode: v.pipe(v.number(), v.integer()),
    issues: v.optional(v.array(v.object({ key: v.string(), message: v.string() }))),
  }),
});

/** A clean verify prints the report; one that found problems exits 1 and prints the error with the report. */
export const VerifyOutputSchema = v.union([
  v.strictObject({ ...VerifyReportSchema.entries, ok: v.literal(true) }),
  v.strictObject({ ...ErrorOutputSchema.entries, report: VerifyReportSchema }),
]);

/** A passing drill prints the result; a failing one exits non-zero and prints the error with the result. */
export const DrillOutputSchema = v.union([
  v.strictObject({ ...DrillResultSchema.entries, ok: v.literal(true) }),
  v.strictObject({ ...ErrorOutputSchema.entries, result: DrillResultSchema }),
]);

/** A passing doctor prints the report; a failing one exits 1 and prints the error with the report. */
export const DoctorOutputSchema = v.union([
  v.strictObject({ ...DoctorReportSchema.entries, ok: v.literal(true) }),
  v.strictObject({ ...ErrorOutputSchema.entries, report: DoctorReportSchema }),
]);
