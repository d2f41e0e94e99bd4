import { HeadObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import { ThawPendingError } from '@org/btrfs-s3-core';
import { s3Error } from '../__fakes__/fake-s3';
import {
  ALL_KEYS,
  ARCHIVED_KEYS,
  FakeClock,
  FakeObjectS3,
  headedKeys,
  READY_KEYS,
  rejection,
  restoredKeys,
  storeArchive,
  thaw,
} from '../__fakes__/thaw-harness';
import { ArchiveThawError, ThawTierError } from './errors';
import type { ThawRetryEvent } from './types';

describe('thawObjects: requesting thaws', () => {
  it('sends RestoreObject once per archived object, after every HeadObject, and none for readable or thawing objects', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);

    const error = await rejection(thaw(fake, new FakeClock(), ALL_KEYS, { waitForRestore: false }).outcome);

    expect([...restoredKeys(fake)].sort()).toEqual([...ARCHIVED_KEYS].sort());
    const lastHead = fake.commands.map((command) => command instanceof HeadObjectCommand).lastIndexOf(true);
    const firstRestore = fake.commands.findIndex((command) => command instanceof RestoreObjectCommand);
    expect(lastHead).toBeLessThan(firstRestore);
    expect([...headedKeys(fake)].sort()).toEqual([...ALL_KEYS].sort());
    expect(error).toBeInstanceOf(ThawPendingError);
    expect(error).toMatchObject({ ready: READY_KEYS.length, total: ALL_KEYS.length, exitCode: 5 });
    expect(error).toHaveProperty(
      'message',
      '4 of 8 archived objects are readable; thaw requested for 3, 1 already running; run the same restore again later to continue',
    );
  });

  it('asks for the configured tier and days, leaving Days out for Intelligent-Tiering', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);

    await rejection(thaw(fake, new FakeClock(), ARCHIVED_KEYS, { waitForRestore: false, tier: 'Bulk', days: 3 }).outcome);

    const requests = Object.fromEntries(fake.of(RestoreObjectCommand).map(({ input }) => [input.Key, input.RestoreRequest]));
    expect(requests).toEqual({
      glacier: { Days: 3, GlacierJobParameters: { Tier: 'Bulk' } },
      deep: { Days: 3, GlacierJobParameters: { Tier: 'Bulk' } },
      'it-archive': { GlacierJobParameters: { Tier: 'Bulk' } },
    });
  });

  it('does not request again what an earlier run requested', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    await rejection(thaw(fake, new FakeClock(), ALL_KEYS, { waitForRestore: false }).outcome);
    const firstRun = restoredKeys(fake).length;

    const error = await rejection(thaw(fake, new FakeClock(), ALL_KEYS, { waitForRestore: false }).outcome);

    expect(firstRun).toBe(3);
    expect(restoredKeys(fake)).toHaveLength(3);
    expect(error).toHaveProperty(
      'message',
      '4 of 8 archived objects are readable; thaw requested for 0, 4 already running; run the same restore again later to continue',
    );
  });

  it('resolves without any RestoreObject when every object is readable, even without waiting', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    const run = thaw(fake, new FakeClock(), [...READY_KEYS, 'standard'], { waitForRestore: false });

    await expect(run.outcome).resolves.toEqual({ total: 4, requested: 0, ready: 4 });
    expect(restoredKeys(fake)).toEqual([]);
    expect(run.progress).toEqual([{ ready: 4, total: 4 }]);
  });

  it('counts a RestoreAlreadyInProgress answer as a running thaw, not a failure', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    fake.hook = (command) => {
      // Another host's request lands between our HeadObject and our RestoreObject.
      const object = fake.objects.get('glacier');
      if (command instanceof RestoreObjectCommand && command.input.Key === 'glacier' && object !== undefined) object.restore = 'ongoing';
    };

    const error = await rejection(thaw(fake, new FakeClock(), ['glacier', 'deep'], { waitForRestore: false }).outcome);

    expect(error).toHaveProperty(
      'message',
      '0 of 2 archived objects are readable; thaw requested for 1, 1 already running; run the same restore again later to continue',
    );
  });

  it('treats archived objects as readable when the store has no archive tier (RestoreObject 501), without retrying', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    fake.hook = (command) => {
      if (command instanceof RestoreObjectCommand) throw s3Error('NotImplemented', 501);
    };

    const run = thaw(fake, new FakeClock(), ['glacier', 'deep'], { waitForRestore: false });

    await expect(run.outcome).resolves.toEqual({ total: 2, requested: 0, ready: 2 });
    expect(fake.of(RestoreObjectCommand)).toHaveLength(2);
  });

  it('retries a HeadObject answered 503 and reports the retry with its key', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    let failures = 0;
    fake.hook = (command) => {
      if (command instanceof HeadObjectCommand && command.input.Key === 'standard' && failures++ === 0)
        throw s3Error('ServiceUnavailable', 503);
    };
    const retries: ThawRetryEvent[] = [];

    const result = await thaw(fake, new FakeClock(), ['standard'], { onRetry: (event) => retries.push(event) }).outcome;

    expect(result).toEqual({ total: 1, requested: 0, ready: 1 });
    expect(retries).toMatchObject([{ operation: 'HeadObject', key: 'standard', attempt: 1 }]);
  });

  it('fails naming the key of a missing object, before requesting any thaw', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);

    const error = await rejection(thaw(fake, new FakeClock(), ['glacier', 'gone'], { concurrency: 1 }).outcome);

    expect(error).toBeInstanceOf(ArchiveThawError);
    expect(error).toMatchObject({ key: 'gone', operation: 'HeadObject', exitCode: 1 });
    expect(error).toHaveProperty(
      'message',
      'thaw of s3://…/gone failed in HeadObject: NotFound (HTTP 404); the object is missing from the bucket',
    );
    expect(restoredKeys(fake)).toEqual([]);
  });

  it('fails naming the key when RestoreObject is denied', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);
    fake.hook = (command) => {
      if (command instanceof RestoreObjectCommand) throw s3Error('AccessDenied', 403);
    };

    const error = await rejection(thaw(fake, new FakeClock(), ['deep']).outcome);

    expect(error).toMatchObject({ key: 'deep', operation: 'RestoreObject' });
    expect(restoredKeys(fake)).toEqual(['deep']);
  });

  it('names the key whose x-amz-restore header it cannot read', async () => {
    const fake = new FakeObjectS3();
    fake.put('odd', Buffer.from('x'), { storageClass: 'GLACIER', restoreHeader: 'ongoing-request="perhaps"' });

    const error = await rejection(thaw(fake, new FakeClock(), ['odd']).outcome);

    expect(error).toBeInstanceOf(ArchiveThawError);
    expect(error).toHaveProperty(
      'message',
      expect.stringContaining('thaw of s3://…/odd failed in HeadObject: x-amz-restore header not understood'),
    );
  });

  it('refuses Expedited for DEEP_ARCHIVE objects before requesting anything', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);

    const error = await rejection(thaw(fake, new FakeClock(), ALL_KEYS, { tier: 'Expedited' }).outcome);

    expect(error).toBeInstanceOf(ThawTierError);
    expect(error).toMatchObject({ keys: ['deep'], exitCode: 2 });
    expect(restoredKeys(fake)).toEqual([]);
  });

  it('allows Expedited for GLACIER and Intelligent-Tiering Archive Access', async () => {
    const fake = new FakeObjectS3();
    storeArchive(fake);

    await rejection(thaw(fake, new FakeClock(), ['glacier', 'it-archive'], { tier: 'Expedited', waitForRestore: false }).outcome);

    expect(fake.of(RestoreObjectCommand).map(({ input }) => input.RestoreRequest?.GlacierJobParameters?.Tier)).toEqual([
      'Expedited',
      'Expedited',
    ]);
  });
});
