import { ThawPendingError } from '@org/btrfs-s3-core';
import { FakeClock, FakeObjectS3, headedKeys, rejection, restoredKeys, storeArchive, thaw } from '../__fakes__/thaw-harness';

const KEYS = ['standard', 'glacier', 'deep', 'it-archive'];

describe('thawObjects: waiting for thaws', () => {
  it('polls with capped backoff until every object is readable, reporting progress', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    const clock = new FakeClock();
    clock.onSleep = (count) => {
      if (count === 2) fake.finishRestore('glacier');
      if (count === 4) ['deep', 'it-archive'].forEach((key) => fake.finishRestore(key));
    };
    const run = thaw(fake, clock, KEYS);

    await expect(run.outcome).resolves.toEqual({ total: 4, requested: 3, ready: 4 });

    expect(clock.sleeps).toEqual([1000, 2000, 3000, 3000]);
    expect(run.progress).toEqual([
      { ready: 1, total: 4 },
      { ready: 1, total: 4 },
      { ready: 2, total: 4 },
      { ready: 2, total: 4 },
      { ready: 4, total: 4 },
    ]);
    expect(restoredKeys(fake)).toHaveLength(3);
    // Readable objects are not polled; archived ones are, restored or not (a thawed copy can expire).
    expect(headedKeys(fake).filter((key) => key === 'standard')).toHaveLength(1);
    expect(headedKeys(fake).filter((key) => key === 'glacier')).toHaveLength(5);
  });

  it('gives up after timeoutMs with ThawPendingError naming what is still thawing, without re-requesting', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    const clock = new FakeClock();
    clock.onSleep = (count) => {
      if (count === 1) fake.finishRestore('glacier');
    };

    const error = await rejection(thaw(fake, clock, KEYS, { timeoutMs: 5000 }).outcome);

    expect(error).toBeInstanceOf(ThawPendingError);
    expect(error).toMatchObject({ ready: 2, total: 4, exitCode: 5 });
    expect(error).toHaveProperty(
      'message',
      '2 of 4 archived objects are readable; gave up waiting after 5 s (restore.restore_timeout_seconds) with 2 still thawing, first s3://…/deep; run the same restore again later to continue',
    );
    // The last wait is cut to the deadline, and one last look is taken at it.
    expect(clock.sleeps).toEqual([1000, 2000, 2000]);
    expect(clock.time).toBe(5000);
    expect(restoredKeys(fake)).toHaveLength(3);
  });

  it('requests again a thawed copy that expired while the others were thawing', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    const clock = new FakeClock();
    clock.onSleep = (count) => {
      const restored = fake.objects.get('deep-restored');
      if (count === 1 && restored !== undefined) restored.restore = 'none';
      if (count === 2) ['deep', 'deep-restored'].forEach((key) => fake.finishRestore(key));
    };

    const result = await thaw(fake, clock, ['deep', 'deep-restored']).outcome;

    expect(result).toEqual({ total: 2, requested: 2, ready: 2 });
    expect(restoredKeys(fake)).toEqual(['deep', 'deep-restored']);
  });

  it('stops waiting at once when the signal aborts, with the signal reason', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    const controller = new AbortController();
    const clock = new FakeClock();
    const reason = new Error('SIGTERM received');
    clock.onSleep = () => controller.abort(reason);

    const error = await rejection(thaw(fake, clock, KEYS, { signal: controller.signal }).outcome);

    expect(error).toBe(reason);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('with a zero timeout requests the thaws and gives up without sleeping', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    const clock = new FakeClock();

    const error = await rejection(thaw(fake, clock, KEYS, { timeoutMs: 0 }).outcome);

    expect(error).toMatchObject({ ready: 1, total: 4 });
    expect(clock.sleeps).toEqual([]);
    expect(restoredKeys(fake)).toHaveLength(3);
  });
});
