import { ArchiveState, restoreExpiry } from './archive-state';

const at = (iso: string) => new Date(iso);

function archive(options: { thawAfterHeads?: number; now?: () => Date } = {}) {
  return new ArchiveState({
    archiveClasses: ['GLACIER', 'DEEP_ARCHIVE'],
    thawAfterHeads: options.thawAfterHeads,
    now: options.now ?? (() => at('2030-06-10T08:00:00Z')),
  });
}

describe('restoreExpiry', () => {
  it('adds the days and rounds up to the next midnight UTC, as S3 does', () => {
    expect(restoreExpiry(at('2030-06-10T08:00:00Z'), 3).toISOString()).toBe('2030-06-14T00:00:00.000Z');
  });

  it('keeps an end that falls exactly on midnight', () => {
    expect(restoreExpiry(at('2030-06-10T00:00:00Z'), 1).toISOString()).toBe('2030-06-11T00:00:00.000Z');
  });
});

describe('ArchiveState', () => {
  it('answers not-archived for a STANDARD object and for a key it has never seen', () => {
    const state = archive();
    state.learn('standard', 'STANDARD');
    expect(state.startRestore('standard', 1)).toBe('not-archived');
    expect(state.startRestore('unseen', 1)).toBe('not-archived');
    expect(state.readable('standard')).toBe(true);
  });

  it('thaws at request time when thawAfterHeads is 0', () => {
    const state = archive({ thawAfterHeads: 0 });
    state.learn('k', 'GLACIER');
    expect(state.startRestore('k', 1)).toBe('accepted');
    expect(state.readable('k')).toBe(true);
    expect(state.headObject('k')).toBe('ongoing-request="false", expiry-date="Wed, 12 Jun 2030 00:00:00 GMT"');
  });

  it('rejects thaw() of a key with no restore in progress, naming the key', () => {
    const state = archive();
    state.learn('k', 'DEEP_ARCHIVE');
    expect(() => state.thaw('k')).toThrow('archive proxy: no restore of "k" is in progress');
  });

  it('forgets a restored copy when a new object replaces the key, or the gateway reports another class', () => {
    const state = archive({ thawAfterHeads: 0 });
    for (const key of ['replaced', 'reclassed']) {
      state.learn(key, 'DEEP_ARCHIVE');
      state.startRestore(key, 1);
    }
    state.replaced('replaced', 'DEEP_ARCHIVE');
    state.learn('reclassed', 'GLACIER');
    expect([state.readable('replaced'), state.readable('reclassed')]).toEqual([false, false]);
    expect(state.headObject('replaced')).toBeUndefined();
  });

  it('thawAll() thaws only ongoing restores and returns their keys', () => {
    const state = archive();
    for (const key of ['a', 'b', 'c']) state.learn(key, 'DEEP_ARCHIVE');
    state.startRestore('a', 1);
    state.startRestore('b', 1);
    state.thaw('b');
    expect(state.thawAll()).toEqual(['a']);
    expect(state.readable('c')).toBe(false);
  });
});
