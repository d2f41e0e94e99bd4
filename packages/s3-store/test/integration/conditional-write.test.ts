import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ConditionalWriteError, S3Bucket } from '../../src';
import { gatewayScope } from './gateway';

/** Conditional PUTs against the real gateway (Ceph RGW refuses a quoted If-Match ETag even when it matches; see TESTENV.md). */
describe('conditional writes against the real gateway', () => {
  const scope = gatewayScope('conditional');
  const bucket = new S3Bucket(scope.client, scope.s3);
  afterAll(() => scope.cleanup());
  const put = (key: string, body: string, condition?: { ifNoneMatch: true } | { ifMatch: string }) =>
    bucket.putObject(key, body, { storageClass: 'STANDARD', ...(condition === undefined ? {} : { condition }) });
  const etagOf = async (key: string) => (await scope.client.send(new HeadObjectCommand({ Bucket: scope.bucket, Key: key }))).ETag ?? '';
  const text = async (key: string) => (await bucket.readTextIfExists(key)) ?? '';

  it('ifNoneMatch: writes a new key; the same content again is its own earlier write; other content is refused and kept out', async () => {
    const key = `${scope.prefix}manifest.json`;
    await put(key, 'first', { ifNoneMatch: true });
    await expect(put(key, 'first', { ifNoneMatch: true })).resolves.toBeUndefined();

    const refused = put(key, 'second', { ifNoneMatch: true });

    await expect(refused).rejects.toThrow(ConditionalWriteError);
    await expect(refused).rejects.toThrow('it already exists with other content');
    expect(await text(key)).toBe('first');
  });

  it('ifMatch: replaces an object whose ETag is still the one read (quoted, as S3 reports it), and refuses one that changed', async () => {
    const key = `${scope.prefix}current.json`;
    await put(key, 'v1');
    const read = await bucket.readTextWithEtag(key);
    expect(read).toMatchObject({ text: 'v1', etag: await etagOf(key) });

    await put(key, 'v2', { ifMatch: read?.etag ?? '' });
    expect(await text(key)).toBe('v2');

    // Another writer replaced it after this run read it.
    const stale = read?.etag ?? '';
    const refused = put(key, 'v3', { ifMatch: stale });
    await expect(refused).rejects.toThrow(ConditionalWriteError);
    await expect(refused).rejects.toThrow('it changed since this run read it');
    expect(await text(key)).toBe('v2');

    // A retry whose first attempt succeeded meets its own content: done.
    await expect(put(key, 'v2', { ifMatch: stale })).resolves.toBeUndefined();
  });
});
