import { type Logger, metricsFiles, readMetricsRecord, type RemoteConfig, type RemoteObject, writeFileAtomic } from '@org/btrfs-s3-core';
import { type CheckCommand, renderCheckTextfile, renderInventoryTextfile, type StoredObjects } from '@org/btrfs-s3-metrics';
import * as v from 'valibot';

const timestamp = v.pipe(v.string(), v.isoTimestamp());

/** One command's last outcome for one set of labels, as `<metrics_path>-<command>.json` keeps it. */
const RecordedCheckSchema = v.object({
  labels: v.record(v.string(), v.string()),
  ok: v.boolean(),
  last_attempt_at: timestamp,
  /** Kept by a failure: one that fails does not erase when one last succeeded. */
  last_success_at: v.nullable(timestamp),
  problem: v.nullable(v.string()),
});

const CheckRecordSchema = v.object({ version: v.literal(1), checks: v.array(RecordedCheckSchema) });

export type RecordedCheck = v.InferOutput<typeof RecordedCheckSchema>;

const readChecks = (path: string, logger: Logger): Promise<RecordedCheck[]> =>
  readMetricsRecord(
    path,
    logger,
    (document) => v.parse(CheckRecordSchema, document).checks,
    () => [],
  );

const sameLabels = (a: RecordedCheck['labels'], b: RecordedCheck['labels']) => JSON.stringify(a) === JSON.stringify(b);
const seconds = (iso: string) => new Date(iso).getTime() / 1000;

/**
 * Records outcomes of `verify` or `prune`: replaces each labels' entry in the command's
 * JSON record (keeping `last_success_at` through a failure) and rewrites its textfile
 * from the whole record, both atomically, beside the backup's files and never over them.
 * Metrics are a report: failing to write them is logged, not thrown over the command's
 * own outcome.
 */
export async function recordChecks(
  config: RemoteConfig,
  logger: Logger,
  command: Exclude<CheckCommand, 'drill'>,
  outcomes: readonly Omit<RecordedCheck, 'last_success_at'>[],
): Promise<void> {
  const paths = metricsFiles(config, command);
  try {
    let checks = await readChecks(paths.json, logger);
    for (const outcome of outcomes) {
      const previous = checks.find((entry) => sameLabels(entry.labels, outcome.labels));
      checks = [
        ...checks.filter((entry) => entry !== previous),
        { ...outcome, last_success_at: outcome.ok ? outcome.last_attempt_at : (previous?.last_success_at ?? null) },
      ];
    }
    checks.sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
    await writeFileAtomic(paths.json, `${JSON.stringify({ version: 1, checks }, null, 2)}\n`, 0o644);
    if (paths.textfile === undefined) return;
    const text = renderCheckTextfile(
      command,
      checks.map((entry) => ({
        labels: entry.labels,
        ok: entry.ok,
        lastAttempt: seconds(entry.last_attempt_at),
        lastSuccess: entry.last_success_at === null ? null : seconds(entry.last_success_at),
      })),
    );
    await writeFileAtomic(paths.textfile, text, 0o644);
  } catch (error) {
    logger.error(`cannot write the ${command} metrics: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * What the bucket holds, from a listing of every subvolume's objects: stored bytes and
 * objects per subvolume and storage class, and their monthly cost at `[prices]`, in the
 * inventory textfile. Only with a textfile configured; logged, not thrown, on failure.
 */
export async function recordInventory(
  config: RemoteConfig,
  logger: Logger,
  list: () => Promise<ReadonlyMap<string, readonly RemoteObject[]>>,
  now: () => Date,
): Promise<void> {
  const { textfile } = metricsFiles(config, 'inventory');
  if (textfile === undefined) return;
  try {
    const listed = await list();
    await writeFileAtomic(textfile, renderInventory(config, listed, now()), 0o644);
  } catch (error) {
    logger.error(`cannot write the inventory metrics: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function renderInventory(config: RemoteConfig, listed: ReadonlyMap<string, readonly RemoteObject[]>, takenAt: Date): string {
  const stored = new Map<string, StoredObjects>();
  for (const [subvolume, objects] of listed) {
    for (const object of objects) {
      const key = `${subvolume}\n${object.storageClass}`;
      const entry = stored.get(key) ?? { subvolume, storageClass: object.storageClass, objects: 0, bytes: 0 };
      stored.set(key, { ...entry, objects: entry.objects + 1, bytes: entry.bytes + object.size });
    }
  }
  const { currency, ...perClass } = config.prices;
  const perGibMonth = Object.fromEntries(Object.entries(perClass).map(([name, price]) => [name.toUpperCase(), price]));
  return renderInventoryTextfile(takenAt.getTime() / 1000, [...stored.values()], { currency, perGibMonth });
}
