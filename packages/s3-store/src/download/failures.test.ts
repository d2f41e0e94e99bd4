import { GetObjectCommand } from '@aws-sdk/client-s3';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { download, FakeObjectS3, flipByte, receive, storeStream } from '../__fakes__/download-harness';
import { s3Error } from '../__fakes__/fake-s3';
import { piecesOf } from '../__fakes__/fake-s3-objects';
import { chunkKey, deferred, sha256 } from '../__fakes__/upload-harness';
import { DownloadError, ChecksumMismatchError } from './errors';
import type { DownloadRetryEvent } from './types';

const PART = 64;
const LAYOUT = { chunkSize: 4 * PART, partSize: PART };
const SECOND_PART = 'bytes=64-127';

const isGetOf = (command: unknown, key: string, range: string) =>
  command instanceof GetObjectCommand && command.input.Key === key && command.input.Range === range;
const getsOf = (fake: FakeObjectS3, key: string, range: string) =>
  fake.of(GetObjectCommand).filter((command) => isGetOf(command, key, range));

/** A body that delivers `first` bytes and then fails as a reset connection does. */
function resetAfter(bytes: Buffer, first: number): Readable {
  async function* cut() {
    yield bytes.subarray(0, first);
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  }
  return Readable.from(cut(), { objectMode: false });
}

describe('downloadVerifiedStream: retries and cancellation', () => {
  it('retries a ranged GET answered 503 SlowDown and passes on the verified bytes', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    let failures = 0;
    fake.hook = (command) => {
      if (isGetOf(command, chunkKey(1), SECOND_PART) && failures++ === 0) throw s3Error('SlowDown', 503);
    };
    const retries: DownloadRetryEvent[] = [];

    const received = await receive(download(fake, stored, { onRetry: (event) => retries.push(event) }));

    expect(received.error).toBeUndefined();
    expect(received.bytes.equals(stored.data)).toBe(true);
    expect(getsOf(fake, chunkKey(1), SECOND_PART)).toHaveLength(2);
    expect(retries).toMatchObject([{ key: chunkKey(1), partNumber: 2, attempt: 1, error: expect.objectContaining({ name: 'SlowDown' }) }]);
  });

  it('verifies the bytes of the retried GET: a part that changed between attempts is rejected', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    let failures = 0;
    fake.hook = (command) => {
      if (!isGetOf(command, chunkKey(1), SECOND_PART) || failures++ > 0) return;
      // The store fails the first attempt and serves a damaged part to the retry.
      const object = fake.objects.get(chunkKey(1));
      if (object !== undefined) flipByte(object.bytes, PART);
      throw s3Error('InternalError', 500);
    };

    const received = await receive(download(fake, stored));

    expect(getsOf(fake, chunkKey(1), SECOND_PART)).toHaveLength(2);
    expect(received.error).toBeInstanceOf(ChecksumMismatchError);
    expect(received.error).toMatchObject({
      subject: 'part sha256',
      key: chunkKey(1),
      partNumber: 2,
      expected: stored.chunks[1]?.parts[1]?.sha256,
    });
    expect(received.bytes.equals(stored.data.subarray(0, 5 * PART))).toBe(true);
  });

  it('refetches a part whose body was cut by a connection reset, without passing on the partial bytes', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    const defaultBody = fake.bodyFor;
    let resets = 0;
    fake.bodyFor = (bytes, command) =>
      isGetOf(command, chunkKey(0), SECOND_PART) && resets++ === 0 ? resetAfter(bytes, 10) : defaultBody(bytes, command);

    const received = await receive(download(fake, stored));

    expect(received.error).toBeUndefined();
    expect(received.bytes.equals(stored.data)).toBe(true);
    expect(getsOf(fake, chunkKey(0), SECOND_PART)).toHaveLength(2);
  });

  it('refetches a part whose body ended before its Content-Length', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    const defaultBody = fake.bodyFor;
    let cuts = 0;
    fake.bodyFor = (bytes, command) =>
      isGetOf(command, chunkKey(0), SECOND_PART) && cuts++ === 0 ? piecesOf(bytes.subarray(0, 30)) : defaultBody(bytes, command);
    const retries: DownloadRetryEvent[] = [];

    const received = await receive(download(fake, stored, { onRetry: (event) => retries.push(event) }));

    expect(received.bytes.equals(stored.data)).toBe(true);
    expect(retries.map((event) => [event.partNumber, String(event.error)])).toEqual([
      [2, 'IncompleteBody: GetObject body ended after 30 of 64 bytes'],
    ]);
  });

  it('fails at once, naming the key, when a GET is refused because the object is archived and not restored', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    const archived = fake.objects.get(chunkKey(1));
    if (archived !== undefined) archived.storageClass = 'DEEP_ARCHIVE';

    const received = await receive(download(fake, stored, { concurrency: 1 }));

    expect(received.error).toBeInstanceOf(DownloadError);
    expect(received.error).toHaveProperty(
      'message',
      expect.stringMatching(
        new RegExp(`^download of s3://…/${chunkKey(1)} part 1 failed in GetObject: InvalidObjectState \\(HTTP 403\\); .*not restored`),
      ),
    );
    expect(fake.of(GetObjectCommand).filter((command) => command.input.Key === chunkKey(1))).toHaveLength(1);
    expect(received.bytes.equals(stored.data.subarray(0, 4 * PART))).toBe(true);
  });

  it('aborts the GETs in flight and errors the stream when the signal aborts', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    const allInFlight = deferred();
    fake.hook = (command) => {
      if (fake.getsInFlight === 3) allInFlight.resolve();
      // Held until the download's signal aborts the request, as a stalled connection would be.
      return command instanceof GetObjectCommand ? new Promise<void>(() => undefined) : undefined;
    };
    const controller = new AbortController();
    const stream = download(fake, stored, { concurrency: 3, signal: controller.signal });
    const receiving = receive(stream);
    await allInFlight.promise;

    controller.abort(new Error('SIGTERM received'));
    const received = await receiving;

    expect(received.error).toMatchObject({ name: 'AbortError', cause: new Error('SIGTERM received') });
    expect(fake.abortedGets).toEqual(['bytes=0-63', 'bytes=64-127', 'bytes=128-191']);
    expect(fake.getsInFlight).toBe(0);
    expect(fake.of(GetObjectCommand)).toHaveLength(3);
  });

  it('aborts the GET whose body is being read when the consumer destroys the stream', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 8 * PART, LAYOUT);
    const bodyOpen = deferred();
    let stalled: Readable | undefined;
    fake.bodyFor = (bytes) => {
      // Delivers a few bytes and then stalls, as a slow download does.
      stalled = new Readable({ read: () => undefined });
      stalled.push(bytes.subarray(0, 5));
      bodyOpen.resolve();
      return stalled;
    };
    const stream = download(fake, stored, { concurrency: 1 });
    stream.resume();
    await bodyOpen.promise;

    stream.destroy();
    await once(stream, 'close');

    expect(fake.abortedGets).toEqual(['bytes=0-63']);
    expect(stalled?.destroyed).toBe(true);
    expect(fake.of(GetObjectCommand)).toHaveLength(1);
  });

  it('reassembles the stream when several parts in flight fail and succeed on later attempts', async () => {
    const fake = new FakeObjectS3();
    // Chunks of 4, 4 and 1 parts: 9 parts.
    const stored = storeStream(fake, 8 * PART + 3, LAYOUT);
    const attempts = new Map<string, number>();
    fake.hook = (command) => {
      if (!(command instanceof GetObjectCommand)) return;
      const id = `${command.input.Key} ${command.input.Range}`;
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      // Parts 2 and 4 of each chunk fail twice before they are served.
      const partIndex = Number(/^bytes=(\d+)-/.exec(command.input.Range ?? '')?.[1]) / PART;
      if (partIndex % 2 === 1 && attempt <= 2) throw s3Error('ServiceUnavailable', 503);
    };

    const received = await receive(download(fake, stored, { concurrency: 4 }));

    expect(received.error).toBeUndefined();
    expect(sha256(received.bytes)).toBe(stored.streamSha256);
    expect(fake.of(GetObjectCommand)).toHaveLength(9 + 4 * 2);
  });
});
