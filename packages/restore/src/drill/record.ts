import { type Logger, metricsFiles, readMetricsRecord, type RemoteConfig, writeFileAtomic } from '@org/btrfs-s3-core';
import { type DrillOutcome, renderDrillTextfile } from '@org/btrfs-s3-metrics';
import * as v from 'valibot';

const timestamp = v.pipe(v.string(), v.isoTimestamp());

/** One subvolume's last drill in one mode, as `<metrics_path>-drill.json` keeps it. */
const RecordedDrillSchema = v.object({
  subvolume: v.string(),
  mode: v.picklist(['full', 'sample']),
  ok: v.boolean(),
  last_attempt_at: timestamp,
  /** Kept by a failed drill: a drill that fails does not erase when one last passed. */
  last_success_at: v.nullable(timestamp),
  manifest_key: v.nullable(v.string()),
  problem: v.nullable(v.string()),
});

const DrillRecordSchema = v.object({ version: v.literal(1), drills: v.array(RecordedDrillSchema) });

export type RecordedDrill = v.InferOutput<typeof RecordedDrillSchema>;

/** @deprecated Use `metricsFiles(config, 'drill')` from @org/btrfs-s3-core, which names every command's files. */
export function drillRecordPaths(config: RemoteConfig): { readonly json: string; readonly textfile: string | undefined } {
  return metricsFiles(config, 'drill');
}

const readRecord = (path: string, logger: Logger): Promise<RecordedDrill[]> =>
  readMetricsRecord(
    path,
    logger,
    (document) => v.parse(DrillRecordSchema, document).drills,
    () => [],
  );

/**
 * Records one drill's outcome: replaces its subvolume and mode's entry in the JSON
 * record (keeping `last_success_at` when it failed) and rewrites the drill textfile
 * from the whole record, both atomically.
 */
export async function recordDrill(config: RemoteConfig, logger: Logger, drill: Omit<RecordedDrill, 'last_success_at'>): Promise<void> {
  const paths = metricsFiles(config, 'drill');
  const recorded = await readRecord(paths.json, logger);
  const same = (entry: RecordedDrill) => entry.subvolume === drill.subvolume && entry.mode === drill.mode;
  const previous = recorded.find(same);
  const drills = [
    ...recorded.filter((entry) => !same(entry)),
    { ...drill, last_success_at: drill.ok ? drill.last_attempt_at : (previous?.last_success_at ?? null) },
  ].sort((a, b) => (a.subvolume + a.mode < b.subvolume + b.mode ? -1 : 1));
  await writeFileAtomic(paths.json, `${JSON.stringify({ version: 1, drills }, null, 2)}\n`, 0o644);
  if (paths.textfile !== undefined) await writeFileAtomic(paths.textfile, renderDrillTextfile(drills.map(toOutcome)), 0o644);
}

const seconds = (iso: string) => new Date(iso).getTime() / 1000;

function toOutcome(drill: RecordedDrill): DrillOutcome {
  return {
    subvolume: drill.subvolume,
    mode: drill.mode,
    ok: drill.ok,
    lastAttempt: seconds(drill.last_attempt_at),
    lastSuccess: drill.last_success_at === null ? null : seconds(drill.last_success_at),
  };
}
