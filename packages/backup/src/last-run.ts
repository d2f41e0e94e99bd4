import { errnoCode, type Logger } from '@org/btrfs-s3-core';
import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import type { LastRun } from './schemas';

/** The parts of the metrics JSON (written by backup, docs/metrics.md) that status shows. Loose: newer writers may add fields. */
const MetricsFileSchema = v.object({
  /** Null while the first run of a new host is still going. */
  finished_at: v.nullable(v.pipe(v.string(), v.isoTimestamp())),
  outcomes: v.array(
    v.object({
      subvolume: v.string(),
      result: v.picklist(['published', 'snapshot-only', 'not-due', 'failed']),
      kind: v.optional(v.picklist(['full', 'inc', 'none'])),
      manifestKey: v.optional(v.string()),
      snapshot: v.optional(v.string()),
      reason: v.optional(v.string()),
      error: v.optional(v.string()),
      metrics: v.optional(
        v.object({
          kind: v.picklist(['full', 'inc', 'none']),
          bytes: v.number(),
          chunks: v.number(),
          parts: v.number(),
          retries: v.number(),
          elapsedSeconds: v.number(),
        }),
      ),
    }),
  ),
});

/**
 * Each subvolume's outcome in the last backup run, from `global.metrics_path`. Empty
 * before the first run. The file is only a report, so one that cannot be read is
 * logged as a warning and status shows the rest.
 */
export async function readLastRuns(path: string, logger: Logger): Promise<Map<string, LastRun>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return new Map();
    throw error;
  }
  let parsed: v.InferOutput<typeof MetricsFileSchema>;
  try {
    parsed = v.parse(MetricsFileSchema, JSON.parse(text));
  } catch (error) {
    logger.warn(
      `metrics file ${path} cannot be read (${error instanceof Error ? error.message : String(error)}); the last run is not shown`,
    );
    return new Map();
  }
  const { finished_at: finishedAt } = parsed;
  if (finishedAt === null) return new Map();
  return new Map(
    parsed.outcomes.map((outcome): [string, LastRun] => [
      outcome.subvolume,
      {
        finishedAt,
        result: outcome.result,
        kind: outcome.metrics?.kind ?? outcome.kind ?? null,
        bytes: outcome.metrics?.bytes ?? null,
        chunks: outcome.metrics?.chunks ?? null,
        parts: outcome.metrics?.parts ?? null,
        retries: outcome.metrics?.retries ?? null,
        elapsedSeconds: outcome.metrics?.elapsedSeconds ?? null,
        manifestKey: outcome.manifestKey ?? null,
        detail: outcome.error ?? outcome.reason ?? outcome.snapshot ?? null,
      },
    ]),
  );
}
