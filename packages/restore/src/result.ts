import { VERIFY_MODES } from '@org/btrfs-s3-core';
import * as v from 'valibot';

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const mode = v.picklist(VERIFY_MODES);

/** What runRestore returns, and what `restore --json` prints. */
export const RestoreResultSchema = v.strictObject({
  subvolume: v.string(),
  target: v.string(),
  /** Oldest first: the full, then each incremental. */
  chain: v.array(v.strictObject({ manifestKey: v.string(), kind: v.picklist(['full', 'inc']), snapshot: v.string(), bytes: count })),
  /** The restored snapshot: the last of the chain. */
  snapshotPath: v.string(),
  /** Equal to the backed-up snapshot's UUID (checked). */
  receivedUuid: v.string(),
  /** The tree comparison against the source snapshot, or why there was none. */
  verification: v.union([
    v.strictObject({
      mode,
      source: v.string(),
      compared: count,
      differences: v.array(v.strictObject({ path: v.string(), what: v.string() })),
    }),
    v.strictObject({ mode, skipped: v.string() }),
  ]),
  /** The send streams' bytes received, summed over the chain. */
  bytes: count,
  elapsedSeconds: v.pipe(v.number(), v.minValue(0)),
});

export type RestoreResult = v.InferOutput<typeof RestoreResultSchema>;
