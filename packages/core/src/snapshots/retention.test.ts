import { snapshotsToDelete } from './retention';

const names = ['data__20260101T020000Z__full', 'data__20260108T020000Z__inc', 'data__20260115T020000Z__inc', 'data__20260122T020000Z__inc'];

describe('snapshotsToDelete', () => {
  it('keeps the newest `retain` snapshots and deletes the rest, oldest first', () => {
    expect(snapshotsToDelete({ subvolume: 'data', names, retain: 2 })).toEqual([
      'data__20260101T020000Z__full',
      'data__20260108T020000Z__inc',
    ]);
  });

  it('always keeps the last uploaded snapshot, even beyond `retain`', () => {
    expect(snapshotsToDelete({ subvolume: 'data', names, retain: 1, keep: 'data__20260108T020000Z__inc' })).toEqual([
      'data__20260101T020000Z__full',
      'data__20260115T020000Z__inc',
    ]);
  });

  it('only ever deletes its own snapshots of this subvolume', () => {
    const mixed = [...names, 'home__20250101T020000Z__full', 'data-manual-copy', 'data__old', '.trash'];
    expect(snapshotsToDelete({ subvolume: 'data', names: mixed, retain: 4 })).toEqual([]);
    expect(snapshotsToDelete({ subvolume: 'data', names: mixed, retain: 3 })).toEqual(['data__20260101T020000Z__full']);
  });

  it('sorts by time whatever order the names come in', () => {
    expect(snapshotsToDelete({ subvolume: 'data', names: [...names].reverse(), retain: 3 })).toEqual(['data__20260101T020000Z__full']);
  });
});
