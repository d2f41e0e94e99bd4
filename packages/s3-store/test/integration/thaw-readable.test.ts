import { PutObjectCommand } from '@aws-sdk/client-s3';
import { thawObjects } from '../../src/archive/thaw';
import { gatewayScope } from './gateway';

describe('archive thaw against the real gateway', () => {
  it('resolves at once for objects in classes that need no thaw, requesting none', async () => {
    const scope = gatewayScope('thaw-readable');
    try {
      const keys = [`${scope.prefix}a.bin`, `${scope.prefix}b.bin`];
      for (const key of keys)
        await scope.client.send(new PutObjectCommand({ Bucket: scope.bucket, Key: key, Body: Buffer.from(key), StorageClass: 'STANDARD' }));
      const progress: Array<{ ready: number; total: number }> = [];

      // waitForRestore false: anything classified as archived would reject with ThawPendingError.
      const result = await thawObjects(scope.client, scope.bucket, keys, {
        waitForRestore: false,
        onProgress: (report) => progress.push(report),
      });

      expect(result).toEqual({ total: 2, requested: 0, ready: 2 });
      expect(progress).toEqual([{ ready: 2, total: 2 }]);
    } finally {
      await scope.cleanup();
    }
  });

  it('names the key of a missing object', async () => {
    const scope = gatewayScope('thaw-missing');
    try {
      const key = `${scope.prefix}missing.bin`;
      await expect(thawObjects(scope.client, scope.bucket, [key])).rejects.toMatchObject({
        name: 'ArchiveThawError',
        key,
        operation: 'HeadObject',
      });
    } finally {
      await scope.cleanup();
    }
  });
});
