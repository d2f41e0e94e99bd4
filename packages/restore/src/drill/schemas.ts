import * as v from 'valibot';

const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** One subvolume's drill in a DrillResult. */
export const DrilledSubvolumeSchema = v.strictObject({
  subvolume: v.string(),
  /** `full`: the chain restored into the scratch directory, verified and deleted; `sample`: sampled archived chunks thawed and re-hashed. */
  mode: v.picklist(['full', 'sample']),
  ok: v.boolean(),
  /** The backup drilled (the newest of its chain); null when the chain could not be resolved. */
  manifestKey: v.nullable(v.string()),
  /** Backups in the chain. */
  backups: count,
  /** Chunk objects downloaded and re-hashed against the manifest (`full`: every one). */
  chunksRead: count,
  /** The bytes those chunks hold. */
  bytes: count,
  /** What proved the restored tree (`full`), or null. */
  verification: v.nullable(v.string()),
  /** Why the drill failed, naming the damaged object where there is one; null when it passed. */
  problem: v.nullable(v.string()),
  elapsedSeconds: v.pipe(v.number(), v.minValue(0)),
});

/** What runDrill returns, and what `drill --json` prints. */
export const DrillResultSchema = v.strictObject({
  ok: v.boolean(),
  /** Where full drills received (and deleted) their restores; null when every drill was sampled. */
  scratch: v.nullable(v.string()),
  subvolumes: v.array(DrilledSubvolumeSchema),
});

export type DrilledSubvolume = v.InferOutput<typeof DrilledSubvolumeSchema>;
export type DrillResult = v.InferOutput<typeof DrillResultSchema>;
