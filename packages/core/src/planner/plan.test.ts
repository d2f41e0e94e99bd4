import { ExitCode } from '../exit-codes';
import { emptyState, type State, type SubvolumeState } from '../state/schema';
import { type LocalSnapshot, type PlanInput, planBackups, UnknownSubvolumeError } from './plan';

const config = {
  schedule: { full_every_days: 180, incremental_every_days: 7, run_at: '02:00' },
  subvolumes: { paths: ['/srv/data', '/srv/home'] },
};
const PARENT = 'data__20261101T020000Z__inc';
const PARENT_MANIFEST = 'host/subvol/data/inc/20261101T020000Z/manifest.json';

/** State after a full on June 1st and an incremental on November 1st. */
const state: State = {
  version: 1,
  last_run_at: '2026-11-01T02:05:00.000Z',
  subvolumes: {
    data: {
      last_snapshot: PARENT,
      last_manifest: PARENT_MANIFEST,
      last_kind: 'inc',
      last_backup_at: '2026-11-01T02:00:00.000Z',
      last_full_at: '2026-06-01T02:00:00.000Z',
    },
  },
};

function requireData(given: State): SubvolumeState {
  const data = given.subvolumes.data;
  if (data === undefined) throw new Error('no state for data');
  return data;
}

function input(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    config,
    state,
    now: new Date('2026-11-09T02:00:00Z'),
    localSnapshots: new Map<string, LocalSnapshot[]>([['data', [{ name: PARENT, readOnly: true }]]]),
    remoteManifestExists: new Map([[PARENT_MANIFEST, true]]),
    ...overrides,
  };
}

const plan = (overrides: Partial<PlanInput> = {}) => planBackups(input(overrides));
const dataPlan = (overrides: Partial<PlanInput> = {}) => {
  const found = plan(overrides).find((entry) => entry.subvolume === 'data');
  if (found === undefined) throw new Error('no plan for data');
  return found;
};

describe('planBackups', () => {
  it('plans a full on the first run of every subvolume', () => {
    expect(plan({ state: emptyState() })).toEqual([
      { subvolume: 'data', path: '/srv/data', action: 'full', reason: 'first backup of this subvolume' },
      { subvolume: 'home', path: '/srv/home', action: 'full', reason: 'first backup of this subvolume' },
    ]);
  });

  it('plans an incremental on the last uploaded snapshot when the incremental cadence is reached', () => {
    expect(dataPlan()).toMatchObject({
      action: 'incremental',
      parentSnapshot: PARENT,
      parentManifest: PARENT_MANIFEST,
      reason: 'last backup was 8.0 days ago (schedule.incremental_every_days = 7)',
    });
  });

  it('plans nothing when nothing is due, saying when the next incremental is', () => {
    expect(dataPlan({ now: new Date('2026-11-05T02:00:00Z') })).toMatchObject({
      action: 'none',
      reason: 'not due: last backup was 4.0 days ago; next incremental at 2026-11-08T02:00:00.000Z',
      nextIncrementalAt: new Date('2026-11-08T02:00:00Z'),
      nextFullAt: new Date('2026-11-28T02:00:00Z'),
    });
  });

  it('plans a full when the full cadence is reached', () => {
    expect(dataPlan({ now: new Date('2026-11-29T02:00:00Z') })).toMatchObject({
      action: 'full',
      reason: 'last full was 181 days ago (schedule.full_every_days = 180)',
    });
  });

  it('--once runs an incremental even when nothing is due', () => {
    expect(dataPlan({ now: new Date('2026-11-02T02:00:00Z'), options: { once: true } })).toMatchObject({
      action: 'incremental',
      parentSnapshot: PARENT,
      reason: `--once ignores the schedule; incremental on ${PARENT}`,
    });
  });

  it('--full forces a full even when an incremental is possible, and on a first run', () => {
    expect(dataPlan({ options: { full: true } })).toMatchObject({ action: 'full', reason: 'forced full (--full)' });
    expect(dataPlan({ state: emptyState(), options: { full: true } })).toMatchObject({ action: 'full', reason: 'forced full (--full)' });
  });

  it('falls back to a full when the parent snapshot is missing locally', () => {
    expect(dataPlan({ localSnapshots: new Map() })).toMatchObject({
      action: 'full',
      reason: `parent snapshot ${PARENT} is missing locally, so an incremental cannot be made`,
    });
  });

  it('falls back to a full when the parent snapshot is not read-only', () => {
    expect(dataPlan({ localSnapshots: new Map([['data', [{ name: PARENT, readOnly: false }]]]) })).toMatchObject({
      action: 'full',
      reason: `parent snapshot ${PARENT} is not read-only, so it may have changed since upload`,
    });
  });

  it("falls back to a full when the parent's manifest is missing in the bucket", () => {
    expect(dataPlan({ remoteManifestExists: new Map([[PARENT_MANIFEST, false]]) })).toMatchObject({
      action: 'full',
      reason: `parent manifest ${PARENT_MANIFEST} is missing in the bucket, so an incremental could not be restored`,
    });
    expect(dataPlan({ remoteManifestExists: new Map() })).toMatchObject({ action: 'full' });
  });

  it('blocks every subvolume when the clock went backwards, naming both times', () => {
    const plans = plan({ now: new Date('2026-10-01T00:00:00Z') });
    expect(plans.map((entry) => entry.action)).toEqual(['blocked', 'blocked']);
    expect(plans[0]?.reason).toBe(
      'the clock went backwards: now is 2026-10-01T00:00:00.000Z, but the state records 2026-11-01T02:05:00.000Z; fix the system clock (snapshot names and schedules depend on it)',
    );
    expect(plan({ now: new Date('2026-10-01T00:00:00Z'), options: { full: true, once: true } })[0]?.action).toBe('blocked');
  });

  it('plans as usual when the state is a few seconds ahead: backups less than a second apart are named ahead of the clock', () => {
    const now = new Date('2026-11-01T02:00:00.400Z');
    const ahead = {
      ...state,
      last_run_at: '2026-11-01T02:00:01.000Z',
      subvolumes: { data: { ...requireData(state), last_backup_at: '2026-11-01T02:00:02.000Z' } },
    };
    expect(dataPlan({ state: ahead, now, options: { once: true } })).toMatchObject({ action: 'incremental', parentSnapshot: PARENT });
    // Five minutes is where a clock is wrong, not early.
    expect(dataPlan({ state: ahead, now: new Date('2026-11-01T01:55:01.000Z') }).action).toBe('blocked');
    expect(dataPlan({ state: ahead, now: new Date('2026-11-01T01:55:03.000Z'), options: { once: true } }).action).toBe('incremental');
  });

  it('restricts the plan to --subvolume names', () => {
    expect(plan({ options: { subvolumes: ['home'] } }).map((entry) => entry.subvolume)).toEqual(['home']);
  });

  it('rejects an unknown --subvolume name with the usage code, naming the configured ones', () => {
    expect(() => plan({ options: { subvolumes: ['home', 'nope'] } })).toThrow(UnknownSubvolumeError);
    expect(() => plan({ options: { subvolumes: ['nope'] } })).toThrow('--subvolume: unknown subvolume "nope"; configured: data, home');
    expect(() => plan({ options: { subvolumes: ['nope'] } })).toThrow(expect.objectContaining({ exitCode: ExitCode.Usage }));
  });

  it('is due exactly at the cadence boundary', () => {
    expect(dataPlan({ now: new Date('2026-11-08T02:00:00Z') }).action).toBe('incremental');
    expect(dataPlan({ now: new Date('2026-11-28T02:00:00Z') }).action).toBe('full');
  });
});
