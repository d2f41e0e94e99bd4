import { GetObjectCommand } from '@aws-sdk/client-s3';
import { download, FakeObjectS3, flipByte, receive, storeStream, type StoredStream } from '../__fakes__/download-harness';
import { s3Error } from '../__fakes__/fake-s3';
import { chunkKey, deferred, sha256 } from '../__fakes__/upload-harness';
import { DownloadError, ChecksumMismatchError } from './errors';

const PART = 64;
const LAYOUT = { chunkSize: 4 * PART, partSize: PART };

function storedObject(fake: FakeObjectS3, key: string): Buffer {
  const object = fake.objects.get(key);
  if (object === undefined) throw new Error(`no object ${key}`);
  return object.bytes;
}

/** The stream's bytes before byte `offset` of chunk `index`: what a consumer may have received before a failure there. */
const before = (stored: StoredStream, index: number, offset: number) => stored.data.subarray(0, index * LAYOUT.chunkSize + offset);

describe('downloadVerifiedStream: verification', () => {
  it('rejects a part whose sha256 differs, passing on exactly the verified bytes before it', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    const object = storedObject(fake, chunkKey(1));
    flipByte(object, PART + 10);
    const actual = sha256(object.subarray(PART, 2 * PART));
    const expected = stored.chunks[1]?.parts[1]?.sha256;

    const received = await receive(download(fake, stored, { concurrency: 4 }));

    expect(received.error).toBeInstanceOf(ChecksumMismatchError);
    expect(received.error).toMatchObject({ subject: 'part sha256', key: chunkKey(1), partNumber: 2, expected, actual, exitCode: 1 });
    expect(received.error).toHaveProperty(
      'message',
      `verification of s3://…/${chunkKey(1)} part 2 failed: part sha256 expected ${expected}, got ${actual}; none of the part was passed on`,
    );
    expect(received.bytes.equals(before(stored, 1, PART))).toBe(true);
  });

  it("rejects a chunk whose sha256 differs from its parts' bytes before passing on its last part", async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    const [first, second, third] = stored.chunks;
    if (first === undefined || second === undefined || third === undefined) throw new Error('expected three chunks');
    const damaged = { ...stored, chunks: [first, { ...second, sha256: 'f'.repeat(64) }, third] };

    const received = await receive(download(fake, damaged));

    expect(received.error).toMatchObject({
      subject: 'chunk sha256',
      key: chunkKey(1),
      partNumber: undefined,
      expected: 'f'.repeat(64),
      actual: second.sha256,
    });
    expect(received.bytes.equals(before(stored, 1, 3 * PART))).toBe(true);
  });

  it('errors instead of ending when the whole stream hash differs, withholding the last part', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 10 * PART + 7, LAYOUT);
    const ends: string[] = [];
    const stream = download(fake, { ...stored, streamSha256: '0'.repeat(64) });
    stream.on('end', () => ends.push('end'));

    const received = await receive(stream);

    expect(received.error).toBeInstanceOf(ChecksumMismatchError);
    expect(received.error).toMatchObject({
      subject: 'stream sha256',
      key: undefined,
      expected: '0'.repeat(64),
      actual: stored.streamSha256,
    });
    expect(received.error).toHaveProperty('message', expect.stringContaining('verification of the whole stream failed'));
    expect(received.bytes.equals(stored.data.subarray(0, 10 * PART))).toBe(true);
    expect(ends).toEqual([]);
  });

  it('rejects a truncated chunk object by its size in Content-Range, naming expected and actual sizes', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    fake.put(chunkKey(1), storedObject(fake, chunkKey(1)).subarray(0, PART + 20));

    const received = await receive(download(fake, stored, { concurrency: 1 }));

    expect(received.error).toMatchObject({
      subject: 'object size',
      key: chunkKey(1),
      partNumber: 1,
      expected: String(4 * PART),
      actual: String(PART + 20),
    });
    expect(received.error).toHaveProperty(
      'message',
      expect.stringContaining(`object size expected ${4 * PART} bytes, got ${PART + 20} bytes`),
    );
    expect(received.bytes.equals(before(stored, 1, 0))).toBe(true);
  });

  it('rejects a truncated part from a store that sends no Content-Range, naming expected and actual sizes', async () => {
    const fake = new FakeObjectS3();
    fake.omitContentRange = true;
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    fake.put(chunkKey(1), storedObject(fake, chunkKey(1)).subarray(0, PART + 20));

    const received = await receive(download(fake, stored, { concurrency: 1 }));

    expect(received.error).toMatchObject({ subject: 'part size', key: chunkKey(1), partNumber: 2, expected: String(PART), actual: '20' });
    expect(received.bytes.equals(before(stored, 1, PART))).toBe(true);
  });

  it('rejects a part that starts past the end of a shortened object (HTTP 416)', async () => {
    const fake = new FakeObjectS3();
    fake.omitContentRange = true;
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    fake.put(chunkKey(2), storedObject(fake, chunkKey(2)).subarray(0, 2 * PART));

    const received = await receive(download(fake, stored, { concurrency: 1 }));

    expect(received.error).toMatchObject({
      subject: 'object size',
      key: chunkKey(2),
      partNumber: 3,
      expected: String(4 * PART),
      actual: `at most ${2 * PART}`,
    });
    expect(received.bytes.equals(before(stored, 2, 2 * PART))).toBe(true);
  });

  it('fails with NoSuchKey naming the missing chunk object, without retrying', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    fake.objects.delete(chunkKey(1));

    const received = await receive(download(fake, stored));

    expect(received.error).toBeInstanceOf(DownloadError);
    expect(received.error).toMatchObject({
      key: chunkKey(1),
      partNumber: 1,
      exitCode: 1,
      cause: expect.objectContaining({ name: 'NoSuchKey' }),
    });
    expect(received.error).toHaveProperty(
      'message',
      `download of s3://…/${chunkKey(1)} part 1 failed in GetObject: NoSuchKey (HTTP 404); the object is missing from the bucket`,
    );
    expect(fake.of(GetObjectCommand).filter(({ input }) => input.Key === chunkKey(1) && input.Range === 'bytes=0-63')).toHaveLength(1);
    expect(received.bytes.equals(before(stored, 1, 0))).toBe(true);
  });

  it('starts no GET beyond a part that failed, even as the parts before it are taken', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 12 * PART, LAYOUT);
    const secondFailed = deferred();
    fake.hook = async (command) => {
      if (!(command instanceof GetObjectCommand) || command.input.Key !== chunkKey(0)) return;
      if (command.input.Range === 'bytes=64-127') {
        secondFailed.resolve();
        throw s3Error('AccessDenied', 403);
      }
      // The first part arrives only after the second has failed, so taking it would open a slot.
      if (command.input.Range === 'bytes=0-63') await secondFailed.promise;
    };

    const received = await receive(download(fake, stored, { concurrency: 3 }));

    expect(received.error).toMatchObject({ key: chunkKey(0), partNumber: 2, cause: expect.objectContaining({ name: 'AccessDenied' }) });
    expect(received.bytes.equals(stored.data.subarray(0, PART))).toBe(true);
    expect(fake.of(GetObjectCommand).map(({ input }) => input.Range)).toEqual(['bytes=0-63', 'bytes=64-127', 'bytes=128-191']);
  });
});
