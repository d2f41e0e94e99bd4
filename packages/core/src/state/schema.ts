import * as v from 'valibot';

/**
 * The local state file (JSON). It records what was last uploaded per subvolume, so
 * the planner can chain the next incremental. Versioned: a reader refuses a newer
 * version instead of guessing.
 */
export const STATE_VERSION = 1;

const isoDate = v.pipe(v.string(), v.isoTimestamp('must be an ISO-8601 timestamp'));

export const SubvolumeStateSchema = v.strictObject({
  /** Name of the last snapshot whose backup was published (the next incremental's parent). */
  last_snapshot: v.string(),
  /** Bucket key of that backup's manifest. */
  last_manifest: v.string(),
  last_kind: v.picklist(['full', 'inc']),
  /** When the last published backup was taken. */
  last_backup_at: isoDate,
  /** When the last published full backup was taken (start of the current chain). */
  last_full_at: isoDate,
});

export const StateSchema = v.strictObject({
  version: v.literal(STATE_VERSION),
  /** When a backup run last finished (successfully or not). */
  last_run_at: v.nullable(isoDate),
  subvolumes: v.record(v.string(), SubvolumeStateSchema),
});

export type SubvolumeState = v.InferOutput<typeof SubvolumeStateSchema>;
export type State = v.InferOutput<typeof StateSchema>;

export function emptyState(): State {
  return { version: STATE_VERSION, last_run_at: null, subvolumes: {} };
}
