import type { Config } from '../config/schema';
import { subvolumeName } from '../config/schema';
import { BtrfsToS3Error } from '../errors';
import { ExitCode } from '../exit-codes';
import type { State, SubvolumeState } from '../state/schema';

const DAY_MS = 24 * 3600 * 1000;
/**
 * How far the clock may be behind a time in the state before planning stops. Snapshot
 * names are whole seconds, each after the last (nextSnapshotName), so backups less than
 * a second apart are named, and recorded, ahead of the clock; and a clock that NTP sets
 * back by a moment harms nothing, as the next name still comes after the last. What the
 * check is for is a clock wrong by far: a reset RTC, a wrong time zone.
 */
const CLOCK_BACKWARDS_TOLERANCE_MS = 5 * 60 * 1000;

/** What exists locally for the planner: a snapshot in `snapshots.base_dir`. */
export interface LocalSnapshot {
  readonly name: string;
  readonly readOnly: boolean;
}

export interface PlanOptions {
  /** `--once`: ignore the schedule and back up now. */
  readonly once?: boolean;
  /** `--full`: force full backups. */
  readonly full?: boolean;
  /** `--subvolume NAME` (repeatable): only these subvolumes. Empty or absent: all. */
  readonly subvolumes?: readonly string[];
}

export interface PlanInput {
  readonly config: Pick<Config, 'schedule' | 'subvolumes'>;
  readonly state: State;
  readonly now: Date;
  /** Our snapshots of each subvolume that exist in `snapshots.base_dir`, by subvolume name. */
  readonly localSnapshots: ReadonlyMap<string, readonly LocalSnapshot[]>;
  /** Whether a manifest key exists in the bucket; asked only for parents in state. */
  readonly remoteManifestExists: ReadonlyMap<string, boolean>;
  readonly options?: PlanOptions;
}

export type PlannedAction =
  | { readonly action: 'full' }
  | { readonly action: 'incremental'; readonly parentSnapshot: string; readonly parentManifest: string }
  | { readonly action: 'none' }
  /** Planning is unsafe (e.g. the clock went backwards): nothing runs, and the run reports a failure. */
  | { readonly action: 'blocked' };

export type SubvolumePlan = PlannedAction & {
  readonly subvolume: string;
  readonly path: string;
  /** Why, in words for a log line or the `plan` command. */
  readonly reason: string;
  /** When the next incremental and full are due by the schedule (undefined on a first run). */
  readonly nextIncrementalAt?: Date;
  readonly nextFullAt?: Date;
};

/** `--subvolume` named something not configured. */
export class UnknownSubvolumeError extends BtrfsToS3Error {
  constructor(unknown: readonly string[], configured: readonly string[]) {
    super(`--subvolume: unknown subvolume ${unknown.map((name) => `"${name}"`).join(', ')}; configured: ${configured.join(', ')}`, {
      exitCode: ExitCode.Usage,
    });
  }
}

/** When the schedule next wants an incremental and a full of a subvolume with this state. */
export function nextDue(schedule: Config['schedule'], last: SubvolumeState): { nextIncrementalAt: Date; nextFullAt: Date } {
  return {
    nextIncrementalAt: new Date(new Date(last.last_backup_at).getTime() + schedule.incremental_every_days * DAY_MS),
    nextFullAt: new Date(new Date(last.last_full_at).getTime() + schedule.full_every_days * DAY_MS),
  };
}

function days(ms: number): string {
  const value = ms / DAY_MS;
  return `${value < 10 ? value.toFixed(1) : Math.floor(value)} days`;
}

/**
 * Decides, per subvolume, whether a full, an incremental or nothing is due, and why.
 * A pure function of its input: no clock, disk or network of its own.
 */
export function planBackups(input: PlanInput): SubvolumePlan[] {
  return selectSubvolumes(input.config, input.options?.subvolumes ?? []).map((entry) => ({ ...entry, ...planOne(input, entry.subvolume) }));
}

/**
 * The configured subvolumes that `--subvolume` names (all when none is named).
 * Throws before any side effect when a name is not configured.
 */
export function selectSubvolumes(config: Pick<Config, 'subvolumes'>, wanted: readonly string[]): { path: string; subvolume: string }[] {
  const configured = config.subvolumes.paths.map((path) => ({ path, subvolume: subvolumeName(path) }));
  const unknown = wanted.filter((name) => !configured.some((entry) => entry.subvolume === name));
  if (unknown.length > 0)
    throw new UnknownSubvolumeError(
      unknown,
      configured.map((entry) => entry.subvolume),
    );
  return configured.filter((entry) => wanted.length === 0 || wanted.includes(entry.subvolume));
}

function planOne(input: PlanInput, subvolume: string): PlannedAction & { reason: string; nextIncrementalAt?: Date; nextFullAt?: Date } {
  const { schedule } = input.config;
  const { now, state } = input;
  const options = input.options ?? {};
  const last = state.subvolumes[subvolume];

  const lastRunAt = state.last_run_at === null ? undefined : new Date(state.last_run_at);
  const latestKnown = [lastRunAt, last && new Date(last.last_backup_at), last && new Date(last.last_full_at)]
    .filter((date): date is Date => date !== undefined)
    .reduce<Date | undefined>((latest, date) => (latest === undefined || date > latest ? date : latest), undefined);
  if (latestKnown !== undefined && now.getTime() < latestKnown.getTime() - CLOCK_BACKWARDS_TOLERANCE_MS) {
    return {
      action: 'blocked',
      reason: `the clock went backwards: now is ${now.toISOString()}, but the state records ${latestKnown.toISOString()}; fix the system clock (snapshot names and schedules depend on it)`,
    };
  }
  if (last === undefined) return { action: 'full', reason: options.full ? 'forced full (--full)' : 'first backup of this subvolume' };

  const due = nextDue(schedule, last);
  const { nextIncrementalAt, nextFullAt } = due;
  if (options.full) return { action: 'full', reason: 'forced full (--full)', ...due };
  const sinceFull = now.getTime() - new Date(last.last_full_at).getTime();
  if (now >= nextFullAt) {
    return {
      action: 'full',
      reason: `last full was ${days(sinceFull)} ago (schedule.full_every_days = ${schedule.full_every_days})`,
      ...due,
    };
  }

  const parent = input.localSnapshots.get(subvolume)?.find((snapshot) => snapshot.name === last.last_snapshot);
  if (parent === undefined)
    return { action: 'full', reason: `parent snapshot ${last.last_snapshot} is missing locally, so an incremental cannot be made`, ...due };
  if (!parent.readOnly)
    return {
      action: 'full',
      reason: `parent snapshot ${last.last_snapshot} is not read-only, so it may have changed since upload`,
      ...due,
    };
  if (input.remoteManifestExists.get(last.last_manifest) !== true) {
    return {
      action: 'full',
      reason: `parent manifest ${last.last_manifest} is missing in the bucket, so an incremental could not be restored`,
      ...due,
    };
  }

  const incremental = { action: 'incremental' as const, parentSnapshot: last.last_snapshot, parentManifest: last.last_manifest, ...due };
  if (options.once) return { ...incremental, reason: `--once ignores the schedule; incremental on ${last.last_snapshot}` };
  const sinceBackup = now.getTime() - new Date(last.last_backup_at).getTime();
  if (now >= nextIncrementalAt) {
    return {
      ...incremental,
      reason: `last backup was ${days(sinceBackup)} ago (schedule.incremental_every_days = ${schedule.incremental_every_days})`,
    };
  }
  return {
    action: 'none',
    reason: `not due: last backup was ${days(sinceBackup)} ago; next incremental at ${nextIncrementalAt.toISOString()}`,
    ...due,
  };
}
