import { compactTimestamp, formatSnapshotName, nextSnapshotName, parseSnapshotName } from './names';

const at = (iso: string) => new Date(iso);

describe('snapshot names', () => {
  it('formats <subvol>__<YYYYMMDDTHHMMSSZ>__<kind> in UTC, dropping milliseconds', () => {
    expect(formatSnapshotName('data', at('2026-11-25T02:00:07.999Z'), 'full')).toBe('data__20261125T020007Z__full');
    expect(compactTimestamp(at('2026-01-02T03:04:05+02:00'))).toBe('20260102T010405Z');
  });

  it('parses its own names back, including subvolume names with underscores', () => {
    expect(parseSnapshotName('my__vol__20261125T020007Z__inc')).toEqual({
      name: 'my__vol__20261125T020007Z__inc',
      subvolume: 'my__vol',
      createdAt: at('2026-11-25T02:00:07Z'),
      kind: 'inc',
    });
  });

  it.each([
    'data',
    'data__20261125T020007Z__diff',
    'data__20261125T020007__full',
    'data__20261325T020007Z__full',
    'data__20260230T000000Z__full',
    '__20261125T020007Z__full',
    'snapshot-2026',
  ])('does not claim a name it could not have made: %s', (name) => {
    expect(parseSnapshotName(name)).toBeUndefined();
  });

  it('uses the current second when no name is taken', () => {
    expect(nextSnapshotName('data', at('2026-11-25T02:00:07.5Z'), 'full', []).name).toBe('data__20261125T020007Z__full');
  });

  it('never collides with a snapshot taken in the same second, whatever its kind', () => {
    const first = nextSnapshotName('data', at('2026-11-25T02:00:07.1Z'), 'full', []);
    const second = nextSnapshotName('data', at('2026-11-25T02:00:07.9Z'), 'inc', [first.name]);
    const third = nextSnapshotName('data', at('2026-11-25T02:00:07.9Z'), 'inc', [first.name, second.name]);
    expect([first.name, second.name, third.name]).toEqual([
      'data__20261125T020007Z__full',
      'data__20261125T020008Z__inc',
      'data__20261125T020009Z__inc',
    ]);
  });

  it('stays after the newest existing snapshot so names sort in creation order', () => {
    const next = nextSnapshotName('data', at('2026-11-25T02:00:00Z'), 'inc', [
      'data__20261125T020005Z__full',
      'home__20271125T020005Z__full',
      'unrelated',
    ]);
    expect(next.name).toBe('data__20261125T020006Z__inc');
  });

  it('steps past the seconds to avoid that it meets, but is not pushed after one far ahead', () => {
    const avoid = [
      'data__20261125T020007Z__inc',
      'data__20261125T020008Z__full',
      'data__20261126T120000Z__inc',
      'home__20261125T020009Z__inc',
    ];
    expect(nextSnapshotName('data', at('2026-11-25T02:00:07.5Z'), 'inc', [], avoid).name).toBe('data__20261125T020009Z__inc');
    expect(nextSnapshotName('data', at('2026-11-25T02:00:05Z'), 'inc', ['data__20261125T020006Z__full'], avoid).name).toBe(
      'data__20261125T020009Z__inc',
    );
    expect(nextSnapshotName('data', at('2026-11-25T02:00:05Z'), 'inc', [], avoid).name).toBe('data__20261125T020005Z__inc');
  });
});
