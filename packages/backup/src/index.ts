/**
 * @org/btrfs-s3-backup: backs up Btrfs subvolumes to S3. `runBackup` is a whole
 * run (plan, dead-run recovery, per subvolume snapshot, send, chunked upload,
 * publish, state, local and remote retention, run metrics); `planBackup` says what
 * it would do; `readStatus` reports the last runs; `runDoctor` checks the host and the
 * store before the first run. With `loadConfig` from
 * @org/btrfs-s3-core these are all a caller needs; no CLI is involved.
 */
export { runBackup, BackupFailedError } from './run-backup';
export type { BackupOptions } from './run-backup';
export type { BackupDeps } from './context';
export { planBackup } from './plan';
export type { PlanBackupOptions } from './plan';
export { readStatus } from './status';
export type { StatusOptions } from './status';
export { runDoctor } from './doctor/run-doctor';
export type { DoctorDeps, DoctorOptions } from './doctor/run-doctor';
export { DoctorCheckSchema, DoctorFailedError, DoctorReportSchema } from './doctor/report';
export type { DoctorCheck, DoctorReport } from './doctor/report';
export { FAILPOINTS } from './failpoints';
export type { Failpoint } from './failpoints';
export { TOOL_VERSION } from './version';
export {
  BackupResultSchema,
  SubvolumeOutcomeSchema,
  RunMetricsSchema,
  PlanEntrySchema,
  PlanResultSchema,
  StatusResultSchema,
  StatusSubvolumeSchema,
  LastRunSchema,
  PendingResumeSchema,
  toPlanEntry,
} from './schemas';
export type {
  BackupResult,
  SubvolumeOutcome,
  RunMetrics,
  PlanEntry,
  PlanResult,
  PendingResume,
  StatusResult,
  StatusSubvolume,
  LastRun,
} from './schemas';
