import type { SubvolumePlan } from '@org/btrfs-s3-core';
import * as v from 'valibot';

/**
 * The results of runBackup, planBackup and readStatus: their types are inferred
 * from these schemas, and the CLI's `--json` prints them. Times are ISO-8601 UTC.
 */

// Strict objects: a field the schema does not describe fails the tests, so the schema and docs keep up.
const isoTime = v.pipe(v.string(), v.isoTimestamp());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const kind = v.picklist(['full', 'inc']);
const runKind = v.picklist(['full', 'inc', 'none']);

/** An interrupted backup kept for the next run to resume (docs/failure-model.md, "Resume"). */
export const PendingResumeSchema = v.strictObject({
  kind,
  snapshot: v.string(),
  /** Bytes of the send stream already in the bucket: completed chunks and the open upload's parts. */
  bytesDone: count,
  chunksDone: count,
  partsDone: count,
  startedAt: isoTime,
  /** Its last progress. */
  updatedAt: isoTime,
  /** From then on it is no longer resumed, and cleanup and prune treat it as any failed run (s3.resume_max_age_hours). */
  expiresAt: isoTime,
});

const planBase = {
  subvolume: v.string(),
  path: v.string(),
  /** Why, in words. */
  reason: v.string(),
  /** When the next incremental and full are due by the schedule; absent before the first backup. */
  nextIncrementalAt: v.optional(isoTime),
  nextFullAt: v.optional(isoTime),
  /** An interrupted backup the run continues if it plans the same kind (and parent); absent when there is none. */
  resume: v.optional(PendingResumeSchema),
};

/** What a run does for one subvolume, and why (the planner's SubvolumePlan, with ISO times). */
export const PlanEntrySchema = v.variant('action', [
  v.strictObject({ ...planBase, action: v.literal('full') }),
  v.strictObject({ ...planBase, action: v.literal('incremental'), parentSnapshot: v.string(), parentManifest: v.string() }),
  v.strictObject({ ...planBase, action: v.literal('none') }),
  /** Planning is unsafe (e.g. the clock went backwards): nothing runs, and the run reports a failure. */
  v.strictObject({ ...planBase, action: v.literal('blocked') }),
]);

export const PlanResultSchema = v.strictObject({
  now: isoTime,
  subvolumes: v.array(PlanEntrySchema),
});

/** A published backup's figures; also what the Prometheus textfile reports. */
export const RunMetricsSchema = v.strictObject({
  subvolume: v.string(),
  kind: runKind,
  ok: v.boolean(),
  bytes: count,
  chunks: count,
  parts: count,
  retries: count,
  /** Bytes of the send stream an interrupted run had stored, which this run proved and did not send again (0 unless resumed). */
  resumedBytes: v.optional(count, 0),
  elapsedSeconds: v.pipe(v.number(), v.minValue(0)),
  /** Seconds since the epoch. */
  finishedAt: v.number(),
});

export const SubvolumeOutcomeSchema = v.variant('result', [
  v.strictObject({ subvolume: v.string(), result: v.literal('published'), manifestKey: v.string(), metrics: RunMetricsSchema }),
  v.strictObject({ subvolume: v.string(), result: v.literal('snapshot-only'), snapshot: v.string() }),
  v.strictObject({ subvolume: v.string(), result: v.literal('not-due'), reason: v.string() }),
  v.strictObject({ subvolume: v.string(), result: v.literal('failed'), kind: runKind, error: v.string() }),
]);

export const BackupResultSchema = v.strictObject({
  /** True: the plan only; nothing was changed. */
  dryRun: v.boolean(),
  plan: v.array(PlanEntrySchema),
  /** One per planned subvolume, in plan order; empty for a dry run. */
  outcomes: v.array(SubvolumeOutcomeSchema),
});

export const LastRunSchema = v.strictObject({
  /** When the run that last handled this subvolume finished (global.metrics_path). */
  finishedAt: isoTime,
  result: v.picklist(['published', 'snapshot-only', 'not-due', 'failed']),
  kind: v.nullable(runKind),
  bytes: v.nullable(count),
  chunks: v.nullable(count),
  parts: v.nullable(count),
  retries: v.nullable(count),
  elapsedSeconds: v.nullable(v.number()),
  manifestKey: v.nullable(v.string()),
  /** The failure, the reason nothing was due, or the snapshot taken without upload. */
  detail: v.nullable(v.string()),
});

export const StatusSubvolumeSchema = v.strictObject({
  subvolume: v.string(),
  path: v.string(),
  lastBackupAt: v.nullable(isoTime),
  lastKind: v.nullable(kind),
  lastSnapshot: v.nullable(v.string()),
  lastManifest: v.nullable(v.string()),
  lastFullAt: v.nullable(isoTime),
  /** Null before the first backup: a first run backs up at once. */
  nextIncrementalAt: v.nullable(isoTime),
  nextFullAt: v.nullable(isoTime),
  /** Null when no run's metrics mention the subvolume. */
  lastRun: v.nullable(LastRunSchema),
  /** An interrupted backup waiting to be resumed; null when there is none. */
  pendingResume: v.nullable(PendingResumeSchema),
});

export const StatusResultSchema = v.strictObject({
  lastRunAt: v.nullable(isoTime),
  lock: v.nullable(v.strictObject({ pid: v.number(), proc_start: v.nullable(v.string()), host: v.string(), started_at: v.string() })),
  subvolumes: v.array(StatusSubvolumeSchema),
});

export type PlanEntry = v.InferOutput<typeof PlanEntrySchema>;
export type PendingResume = v.InferOutput<typeof PendingResumeSchema>;
export type PlanResult = v.InferOutput<typeof PlanResultSchema>;
export type RunMetrics = v.InferOutput<typeof RunMetricsSchema>;
export type SubvolumeOutcome = v.InferOutput<typeof SubvolumeOutcomeSchema>;
export type BackupResult = v.InferOutput<typeof BackupResultSchema>;
export type LastRun = v.InferOutput<typeof LastRunSchema>;
export type StatusResult = v.InferOutput<typeof StatusResultSchema>;
export type StatusSubvolume = v.InferOutput<typeof StatusSubvolumeSchema>;

/** The planner's answer as data: Dates become ISO strings. */
export function toPlanEntry(plan: SubvolumePlan): PlanEntry {
  const { nextIncrementalAt, nextFullAt, ...rest } = plan;
  return {
    ...rest,
    ...(nextIncrementalAt === undefined ? {} : { nextIncrementalAt: nextIncrementalAt.toISOString() }),
    ...(nextFullAt === undefined ? {} : { nextFullAt: nextFullAt.toISOString() }),
  };
}
