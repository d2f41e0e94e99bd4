import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { FakeObjectS3 } from '../__fakes__/fake-s3-objects';
import { s3Error } from '../__fakes__/fake-s3';
import { type ListingClient, listObjects } from './listing';

const instant = { sleep: async () => undefined };

/** A store that answers with these pages, in turn: for answers the fake never gives. */
function pages(answers: Array<Omit<ListObjectsV2CommandOutput, '$metadata'>>): ListingClient {
  let next = 0;
  return { send: async () => ({ $metadata: {}, ...answers[next++] }) };
}

describe('listObjects', () => {
  it('lists every object under the prefix with size, LastModified and storage class, across pages', async () => {
    const fake = new FakeObjectS3();
    fake.listPageSize = 2;
    const written = new Date('2026-01-01T00:00:00Z');
    for (const index of [0, 1, 2, 3, 4])
      fake.put(`host/subvol/data/full/1/chunks/part-0000${index}.bin`, Buffer.alloc(index + 1), {
        storageClass: 'DEEP_ARCHIVE',
        lastModified: written,
      });
    fake.put('host/subvol/data/current.json', Buffer.from('{}'), { lastModified: written });
    fake.put('other/x', Buffer.alloc(1));

    const objects = await listObjects(fake, 'backups', 'host/', instant);

    expect(objects).toEqual([
      { key: 'host/subvol/data/current.json', size: 2, lastModified: written, storageClass: 'STANDARD' },
      ...[0, 1, 2, 3, 4].map((index) => ({
        key: `host/subvol/data/full/1/chunks/part-0000${index}.bin`,
        size: index + 1,
        lastModified: written,
        storageClass: 'DEEP_ARCHIVE',
      })),
    ]);
    const calls = fake.of(ListObjectsV2Command).map((command) => command.input);
    expect(calls).toEqual([
      { Bucket: 'backups', Prefix: 'host/' },
      { Bucket: 'backups', Prefix: 'host/', ContinuationToken: 'host/subvol/data/full/1/chunks/part-00000.bin' },
      { Bucket: 'backups', Prefix: 'host/', ContinuationToken: 'host/subvol/data/full/1/chunks/part-00002.bin' },
    ]);
  });

  it('reports STANDARD for an entry whose storage class the store leaves out', async () => {
    const client = pages([{ Contents: [{ Key: 'p/a', Size: 1, LastModified: new Date(0) }] }]);
    expect((await listObjects(client, 'backups', 'p/', instant))[0]?.storageClass).toBe('STANDARD');
  });

  it('retries a page that failed transiently, then names the prefix when retries run out', async () => {
    const fake = new FakeObjectS3();
    fake.put('p/a', Buffer.alloc(1));
    let failures = 1;
    fake.hook = () => {
      if (failures-- > 0) throw s3Error('SlowDown', 503);
    };
    expect(await listObjects(fake, 'backups', 'p/', instant)).toHaveLength(1);

    fake.hook = () => {
      throw s3Error('AccessDenied', 403);
    };
    await expect(listObjects(fake, 'backups', 'p/', instant)).rejects.toThrow('S3 ListObjectsV2 s3://…/p/ failed: AccessDenied (HTTP 403)');
  });

  it('refuses a listing without LastModified or a truncated one without a token, rather than guess', async () => {
    await expect(listObjects(pages([{ Contents: [{ Key: 'p/a', Size: 1 }] }]), 'backups', 'p/', instant)).rejects.toThrow(
      'the listing of p/a has no LastModified',
    );
    await expect(listObjects(pages([{ Contents: [{ Key: 'p/a', LastModified: new Date() }] }]), 'backups', 'p/', instant)).rejects.toThrow(
      'the listing of p/a has no Size',
    );
    await expect(listObjects(pages([{ Contents: [], IsTruncated: true }]), 'backups', 'p/', instant)).rejects.toThrow(
      'truncated listing without NextContinuationToken',
    );
  });
});
