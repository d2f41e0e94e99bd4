import { GetObjectCommand } from '@aws-sdk/client-s3';
import { download, FakeObjectS3, receive, storeStream } from '../__fakes__/download-harness';
import { chunkKey, sha256 } from '../__fakes__/upload-harness';
import { downloadVerifiedStream } from './download-verified-stream';
import { DownloadPlanError, ChecksumMismatchError } from './errors';

const rangesOf = (fake: FakeObjectS3, key: string) =>
  fake.of(GetObjectCommand).flatMap(({ input }) => (input.Key === key ? [input.Range] : []));

describe('downloadVerifiedStream', () => {
  it('emits the parts in stream order when their GETs complete out of order', async () => {
    const fake = new FakeObjectS3();
    // Chunks of 4, 4 and 3 parts (the last part 5 bytes): 11 ranged GETs.
    const stored = storeStream(fake, 10 * 64 + 5, { chunkSize: 4 * 64, partSize: 64 });
    const answered: string[] = [];
    const held: Array<() => void> = [];
    let requested = 0;
    fake.hook = (command) => {
      if (!(command instanceof GetObjectCommand)) return undefined;
      requested += 1;
      return new Promise<void>((resolve) => {
        held.push(() => {
          answered.push(`${command.input.Key} ${command.input.Range}`);
          resolve();
        });
        // Answer the held GETs newest first, once every slot is taken (or nothing more will be asked).
        if (held.length === 3 || requested === 11)
          held
            .splice(0)
            .reverse()
            .forEach((release) => release());
      });
    };

    const received = await receive(download(fake, stored, { concurrency: 3 }));

    expect(received.error).toBeUndefined();
    expect(received.bytes.equals(stored.data)).toBe(true);
    expect(answered.slice(0, 3)).toEqual([`${chunkKey(0)} bytes=128-191`, `${chunkKey(0)} bytes=64-127`, `${chunkKey(0)} bytes=0-63`]);
    expect(fake.maxGetsInFlight).toBe(3);
    expect(rangesOf(fake, chunkKey(2))).toEqual(['bytes=0-63', 'bytes=64-127', 'bytes=128-132']);
  });

  it('fetches a part larger than rangeSizeBytes in consecutive ranges and verifies it whole', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 128, { chunkSize: 128, partSize: 64 });

    const received = await receive(download(fake, stored, { rangeSizeBytes: 25, concurrency: 1 }));

    expect(received.bytes.equals(stored.data)).toBe(true);
    expect(rangesOf(fake, chunkKey(0))).toEqual([
      'bytes=0-24',
      'bytes=25-49',
      'bytes=50-63',
      'bytes=64-88',
      'bytes=89-113',
      'bytes=114-127',
    ]);
  });

  it('reports the bytes passed on after each verified part', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 150, { chunkSize: 100, partSize: 40 });
    const progress: number[] = [];

    await receive(download(fake, stored, { onProgress: (bytes) => progress.push(bytes) }));

    expect(progress).toEqual([40, 80, 100, 140, 150]);
  });

  it('ends with no bytes and no request for an empty stream whose hash is that of no bytes', async () => {
    const fake = new FakeObjectS3();
    const received = await receive(download(fake, { chunks: [], streamSha256: sha256(Buffer.alloc(0)) }));
    expect(received).toEqual({ bytes: Buffer.alloc(0), error: undefined });
    expect(fake.commands).toEqual([]);
  });

  it('errors an empty chunk list whose stream hash is not that of no bytes', async () => {
    const fake = new FakeObjectS3();
    const received = await receive(download(fake, { chunks: [], streamSha256: 'a'.repeat(64) }));
    expect(received.error).toBeInstanceOf(ChecksumMismatchError);
    expect(received.error).toMatchObject({ subject: 'stream sha256', expected: 'a'.repeat(64), actual: sha256(Buffer.alloc(0)) });
  });

  it('refuses a chunk whose parts do not add up to its size before sending anything', () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 100, { chunkSize: 100, partSize: 40 });
    const [chunk] = stored.chunks;
    if (chunk === undefined) throw new Error('no chunk stored');
    const damaged = { ...chunk, size: 101 };
    const start = () => downloadVerifiedStream({ client: fake, bucket: 'backups', chunks: [damaged], streamSha256: stored.streamSha256 });
    expect(start).toThrow(DownloadPlanError);
    expect(start).toThrow(`the parts of chunk ${chunkKey(0)} add up to 100 bytes, the chunk has 101`);
    expect(fake.commands).toEqual([]);
  });

  it('refuses a part larger than maxPartSizeBytes before any GET, and accepts one at the limit', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 100, { chunkSize: 100, partSize: 40 });
    const request = { client: fake, bucket: 'backups', chunks: stored.chunks, streamSha256: stored.streamSha256 };
    const start = () => downloadVerifiedStream(request, { maxPartSizeBytes: 39 });
    expect(start).toThrow(DownloadPlanError);
    expect(start).toThrow(`part 1 of ${chunkKey(0)} is 40 bytes, more than the 39 this download may hold`);
    expect(fake.commands).toEqual([]);

    expect(await receive(downloadVerifiedStream(request, { maxPartSizeBytes: 40 }))).toEqual({ bytes: stored.data, error: undefined });
  });

  it('refuses parts listed out of order', () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 100, { chunkSize: 100, partSize: 40 });
    const [chunk] = stored.chunks;
    if (chunk === undefined) throw new Error('no chunk stored');
    const swapped = { ...chunk, parts: [...chunk.parts].reverse() };
    expect(() => downloadVerifiedStream({ client: fake, bucket: 'backups', chunks: [swapped], streamSha256: stored.streamSha256 })).toThrow(
      `chunk ${chunkKey(0)} lists part 3 in position 1`,
    );
  });

  it('refuses a concurrency below one', () => {
    const fake = new FakeObjectS3();
    expect(() => download(fake, { chunks: [], streamSha256: sha256(Buffer.alloc(0)) }, { concurrency: 0 })).toThrow(RangeError);
  });
});
