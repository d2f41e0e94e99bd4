import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { FakeObjectS3, flipByte, storeStream } from '../__fakes__/download-harness';
import { s3Error } from '../__fakes__/fake-s3';
import { chunkKey } from '../__fakes__/upload-harness';
import { checkChunks, type ChunkCheckOptions, sampleChunks } from './check-chunks';

const PART = 64;
const LAYOUT = { chunkSize: 2 * PART, partSize: PART };
const instant = { sleep: async () => undefined };

function stored(chunks = 4) {
  const fake = new FakeObjectS3();
  const stream = storeStream(fake, chunks * LAYOUT.chunkSize - 10, LAYOUT);
  return { fake, stream };
}

const check = (fake: FakeObjectS3, stream: ReturnType<typeof stored>['stream'], reads: ChunkCheckOptions['reads']) =>
  checkChunks(fake, 'backups', stream.chunks, stream.streamSha256, { reads, retry: instant });

function object(fake: FakeObjectS3, key: string): Buffer {
  const found = fake.objects.get(key);
  if (found === undefined) throw new Error(`no object ${key}`);
  return found.bytes;
}

describe('checkChunks', () => {
  it('finds every chunk present with its recorded size using HeadObject only', async () => {
    const { fake, stream } = stored();
    const result = await check(fake, stream, 'none');
    expect(result.chunks).toEqual(
      stream.chunks.map((chunk) => ({ key: chunk.key, status: 'ok', size: chunk.size, storageClass: 'STANDARD', read: false })),
    );
    expect(result.stream).toEqual({ checked: false });
    expect(fake.of(HeadObjectCommand)).toHaveLength(4);
    expect(fake.of(GetObjectCommand)).toHaveLength(0);
  });

  it('reports a missing chunk and one whose size changed, and checks the rest', async () => {
    const { fake, stream } = stored();
    fake.objects.delete(chunkKey(1));
    fake.put(chunkKey(2), Buffer.alloc(5));
    const result = await check(fake, stream, 'all');
    expect(result.chunks.map((finding) => finding.status)).toEqual(['ok', 'missing', 'size-mismatch', 'ok']);
    expect(result.chunks[1]).toEqual({ key: chunkKey(1), status: 'missing', expectedSize: 2 * PART });
    expect(result.chunks[2]).toEqual({
      key: chunkKey(2),
      status: 'size-mismatch',
      expectedSize: 2 * PART,
      actualSize: 5,
      storageClass: 'STANDARD',
    });
    expect(result.stream).toEqual({ checked: false });
  });

  it('re-hashes every chunk: a same-size change is found in its part, the stream hash is checked when all match', async () => {
    const { fake, stream } = stored();
    expect((await check(fake, stream, 'all')).stream).toEqual({
      checked: true,
      expected: stream.streamSha256,
      actual: stream.streamSha256,
    });

    flipByte(object(fake, chunkKey(3)), PART + 1);
    const result = await check(fake, stream, 'all');
    expect(result.chunks.map((finding) => finding.status)).toEqual(['ok', 'ok', 'ok', 'hash-mismatch']);
    expect(result.chunks[0]).toMatchObject({ read: true });
    expect(result.chunks[3]).toMatchObject({
      key: chunkKey(3),
      subject: 'part sha256',
      partNumber: 2,
      expected: stream.chunks[3]?.parts[1]?.sha256,
    });
    expect(result.stream).toEqual({ checked: false });
    // HeadObject alone cannot see it.
    expect((await check(fake, stream, 'none')).chunks.every((finding) => finding.status === 'ok')).toBe(true);
  });

  it('skips archived chunks that are not thawed instead of failing them, and reads thawed ones', async () => {
    const { fake, stream } = stored(2);
    fake.put(chunkKey(0), object(fake, chunkKey(0)), { storageClass: 'DEEP_ARCHIVE' });
    fake.put(chunkKey(1), object(fake, chunkKey(1)), { storageClass: 'GLACIER', restore: 'restored' });
    const result = await check(fake, stream, 'all');
    expect(result.chunks).toEqual([
      { key: chunkKey(0), status: 'archived', storageClass: 'DEEP_ARCHIVE' },
      { key: chunkKey(1), status: 'ok', size: stream.chunks[1]?.size, storageClass: 'GLACIER', read: true },
    ]);
  });

  it('reports a chunk whose download fails for another reason as unreadable, naming the S3 error', async () => {
    const { fake, stream } = stored(1);
    fake.hook = (command) => {
      if (command instanceof GetObjectCommand) throw s3Error('AccessDenied', 403);
    };
    const [finding] = (await check(fake, stream, 'all')).chunks;
    expect(finding).toMatchObject({ key: chunkKey(0), status: 'unreadable', message: expect.stringContaining('AccessDenied (HTTP 403)') });
  });

  it('fails on a HeadObject error that says nothing about the chunk', async () => {
    const { fake, stream } = stored(1);
    fake.hook = () => {
      throw s3Error('AccessDenied', 403);
    };
    await expect(check(fake, stream, 'none')).rejects.toThrow(`S3 HeadObject s3://…/${chunkKey(0)} failed: AccessDenied (HTTP 403)`);
  });

  it('reads only a sample chosen by the seed, the same chunks on every run', async () => {
    const { fake, stream } = stored(8);
    const seed = 'host/subvol/data/full/20260101T020000Z/manifest.json';
    const result = await check(fake, stream, { sample: 3, seed });
    const read = result.chunks.filter((finding) => finding.status === 'ok' && finding.read).map((finding) => finding.key);
    expect(read).toEqual(sampleChunks(seed, stream.chunks, 3).map((chunk) => chunk.key));
    expect(new Set(fake.of(GetObjectCommand).map((command) => command.input.Key))).toEqual(new Set(read));
    expect(result.stream).toEqual({ checked: false });
  });
});

describe('sampleChunks', () => {
  const chunks = Array.from({ length: 20 }, (_, index) => ({ key: chunkKey(index) }));

  it('picks the same chunks for the same seed, in stream order, and others for another seed', () => {
    const first = sampleChunks('seed-a', chunks, 5);
    expect(first).toHaveLength(5);
    expect(sampleChunks('seed-a', [...chunks].reverse(), 5)).toEqual([...first].reverse());
    expect(first.map((chunk) => chunks.indexOf(chunk))).toEqual([...first.map((chunk) => chunks.indexOf(chunk))].sort((a, b) => a - b));
    expect(sampleChunks('seed-b', chunks, 5)).not.toEqual(first);
  });

  it('takes every chunk when the sample is as large as the list', () => {
    expect(sampleChunks('s', chunks, 50)).toEqual(chunks);
    expect(sampleChunks('s', chunks, 0)).toEqual([]);
  });
});
