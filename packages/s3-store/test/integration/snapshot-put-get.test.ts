import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { run, withLoopBtrfs } from '@org/testenv';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { S3Bucket } from '../../src';
import { createS3Client } from '../../src/client';
import { gatewayS3Config } from './gateway';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('real Btrfs and the real gateway', () => {
  it('snapshots a subvolume read-only and round-trips its bytes through S3 with SSE and a storage class', async () => {
    const s3 = gatewayS3Config();
    const client = createS3Client(s3);
    const store = new S3Bucket(client, s3);
    const payload = randomBytes(3 * 1024 * 1024 + 17);

    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeFile(join(mnt, 'data', 'payload.bin'), payload);
      await btrfs.createReadOnlySnapshot(join(mnt, 'data'), join(mnt, 'data-snap'));
      // The snapshot is a real, read-only subvolume holding the same bytes.
      expect((await run('btrfs', ['property', 'get', '-ts', join(mnt, 'data-snap'), 'ro'])).trim()).toBe('ro=true');
      await expect(writeFile(join(mnt, 'data-snap', 'new'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
      const fromSnapshot = await readFile(join(mnt, 'data-snap', 'payload.bin'));

      const key = `it/${Date.now()}-${process.pid}/payload.bin`;
      await store.putObject(key, fromSnapshot, { storageClass: 'DEEP_ARCHIVE', contentType: 'application/octet-stream' });
      const head = await store.headObject(key);
      expect(head).toEqual({ key, size: payload.length, storageClass: 'DEEP_ARCHIVE' });
      const body = await store.getObject(key);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
    });
    client.destroy();
  });

  it('tells missing objects apart and names the operation and key when one is read', async () => {
    const s3 = gatewayS3Config();
    const client = createS3Client(s3);
    const store = new S3Bucket(client, s3);
    await expect(store.getObject('it/does-not-exist')).rejects.toThrow(
      /^S3 GetObject s3:\/\/…\/it\/does-not-exist failed: NoSuchKey \(HTTP 404\)/,
    );
    expect(await store.objectExists('it/does-not-exist')).toBe(false);
    await store.putObject('it/small.json', '{"a":1}', { storageClass: 'STANDARD' });
    expect(await store.objectExists('it/small.json')).toBe(true);
    expect(await text(await store.getObject('it/small.json'))).toBe('{"a":1}');
    expect(await store.readTextIfExists('it/small.json')).toBe('{"a":1}');
    expect(await store.readTextIfExists('it/does-not-exist')).toBeUndefined();
    client.destroy();
  });
});
