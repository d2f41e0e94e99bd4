import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { FakeObjectS3 } from '../__fakes__/fake-s3-objects';
import { s3Error } from '../__fakes__/fake-s3';
import { S3StoreError } from '../object-store';
import { DeleteObjectsError, deleteObjects } from './delete-objects';

const instant = { sleep: async () => undefined };

function filled(count: number): { fake: FakeObjectS3; keys: string[] } {
  const fake = new FakeObjectS3();
  const keys = Array.from({ length: count }, (_, index) => `p/${String(index).padStart(5, '0')}`);
  for (const key of keys) fake.put(key, Buffer.alloc(1));
  return { fake, keys };
}

describe('deleteObjects', () => {
  it('deletes in quiet batches of at most 1000 keys, in order, reporting progress', async () => {
    const { fake, keys } = filled(2500);
    fake.put('p/keep', Buffer.alloc(1));
    const progress: number[] = [];

    expect(await deleteObjects(fake, 'backups', keys, { ...instant, onProgress: (deleted) => progress.push(deleted) })).toBe(2500);

    expect([...fake.objects.keys()]).toEqual(['p/keep']);
    const batches = fake.of(DeleteObjectsCommand).map((command) => command.input.Delete?.Objects?.map((object) => object.Key));
    expect(batches.map((batch) => batch?.length)).toEqual([1000, 1000, 500]);
    expect(batches.flat()).toEqual(keys);
    expect(
      fake.of(DeleteObjectsCommand).every((command) => command.input.Delete?.Quiet === true && command.input.Bucket === 'backups'),
    ).toBe(true);
    expect(progress).toEqual([1000, 2000, 2500]);
  });

  it('counts a key that does not exist as deleted, so a repeated prune is harmless', async () => {
    const fake = new FakeObjectS3();
    expect(await deleteObjects(fake, 'backups', ['p/gone'], instant)).toBe(1);
  });

  it('sends keys that failed transiently again, and only those', async () => {
    const { fake, keys } = filled(3);
    let slowDowns = 2;
    fake.deleteErrorFor = (key) =>
      key === 'p/00001' && slowDowns-- > 0 ? { Code: 'SlowDown', Message: 'reduce your request rate' } : undefined;

    expect(await deleteObjects(fake, 'backups', keys, instant)).toBe(3);

    expect(fake.objects.size).toBe(0);
    expect(fake.of(DeleteObjectsCommand).map((command) => command.input.Delete?.Objects?.map((object) => object.Key))).toEqual([
      keys,
      ['p/00001'],
      ['p/00001'],
    ]);
  });

  it('names every key that was not deleted, after trying every batch', async () => {
    const { fake, keys } = filled(1500);
    fake.deleteErrorFor = (key) =>
      key === 'p/00007' || key === 'p/01200' ? { Code: 'AccessDenied', Message: 'Access Denied' } : undefined;

    const error = await deleteObjects(fake, 'backups', keys, instant).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeleteObjectsError);
    expect(error).toMatchObject({
      exitCode: 1,
      failures: [
        { key: 'p/00007', code: 'AccessDenied', message: 'Access Denied' },
        { key: 'p/01200', code: 'AccessDenied', message: 'Access Denied' },
      ],
    });
    expect(error).toHaveProperty(
      'message',
      'S3 DeleteObjects did not delete 2 object(s):\n  s3://…/p/00007: AccessDenied (Access Denied)\n  s3://…/p/01200: AccessDenied (Access Denied)',
    );
    expect([...fake.objects.keys()]).toEqual(['p/00007', 'p/01200']);
  });

  it('reports a key that keeps failing transiently once retries run out, and lists at most 20 in the message', async () => {
    const { fake, keys } = filled(25);
    fake.deleteErrorFor = () => ({ Code: 'InternalError', Message: 'try again' });

    const error = await deleteObjects(fake, 'backups', keys, { ...instant, attempts: 2 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeleteObjectsError);
    expect(fake.of(DeleteObjectsCommand)).toHaveLength(2);
    expect(error).toHaveProperty('message', expect.stringContaining('did not delete 25 object(s)'));
    expect(error).toHaveProperty(
      'message',
      expect.stringMatching(/s3:\/\/…\/p\/00019: InternalError \(try again\)\n {2}\.\.\. and 5 more$/),
    );
  });

  it('retries a failed request and names its first key when retries run out', async () => {
    const { fake, keys } = filled(2);
    let failures = 1;
    fake.hook = () => {
      if (failures-- > 0) throw s3Error('InternalError', 500);
    };
    expect(await deleteObjects(fake, 'backups', keys, instant)).toBe(2);

    fake.hook = () => {
      throw s3Error('AccessDenied', 403);
    };
    const error = await deleteObjects(fake, 'backups', ['p/x', 'p/y'], instant).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(S3StoreError);
    expect(error).toHaveProperty('message', 'S3 DeleteObjects s3://…/p/x failed: AccessDenied (HTTP 403)');
  });
});
