import { UploadPartCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { s3Error } from '../__fakes__/fake-s3';
import { FakeS3, randomData, sha256, sourceOf, upload } from '../__fakes__/upload-harness';
import { ChunkUploadError } from './errors';

const PART = 1000;

/** Polls a condition until it holds or the deadline passes; for state only visible on disk. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function spooledBytes(dir: string): Promise<number> {
  const files = await readdir(dir).catch(() => []);
  const sizes = await Promise.all(files.map(async (file) => (await stat(join(dir, file))).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}

describe('uploadChunkedStream with a disk spool', () => {
  let dir = '';
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'spool-test-')), 'spool');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('uploads the same bytes through part files and removes every file afterwards', async () => {
    const fake = new FakeS3();
    const data = randomData(7 * PART + 3);
    const result = await upload(fake, sourceOf(data, 333), {
      chunkSizeBytes: 3 * PART,
      partSizeBytes: PART,
      concurrency: 2,
      spool: { dir, maxBytes: 3 * PART },
    });
    expect(result.streamSha256).toBe(sha256(data));
    expect(Buffer.concat(result.chunks.map((chunk) => fake.objects.get(chunk.key) ?? Buffer.alloc(0)))).toEqual(data);
    expect(result.chunks.map((chunk) => chunk.parts.length)).toEqual([3, 3, 2]);
    expect(await readdir(dir)).toEqual([]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('reads ahead into the spool while S3 is slow, up to global.spool_size_bytes and no further', async () => {
    const fake = new FakeS3();
    const resumes: Array<() => void> = [];
    fake.hook = (command) => (command instanceof UploadPartCommand ? new Promise<void>((resume) => resumes.push(resume)) : undefined);
    let produced = 0;
    const total = 10 * PART;
    const source = new Readable({
      highWaterMark: 100,
      read() {
        const size = Math.min(100, total - produced);
        produced += size;
        this.push(size === 0 ? null : Buffer.alloc(size, 7));
      },
    });
    const running = upload(fake, source, {
      chunkSizeBytes: 5 * PART,
      partSizeBytes: PART,
      concurrency: 1,
      spool: { dir, maxBytes: 3 * PART },
    });

    // One part is being uploaded (its file kept for retries), two wait in the spool; the fourth finds no room.
    // A file appears when its part opens, before its bytes land, so wait for the bytes on disk.
    await waitFor(async () => (await spooledBytes(dir)) === 3 * PART && resumes.length === 1);
    for (let turn = 0; turn < 50; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(produced).toBeGreaterThanOrEqual(3 * PART);
    expect(produced).toBeLessThanOrEqual(3 * PART + 200);
    const files = await readdir(dir);
    expect(files).toHaveLength(3);
    for (const file of files) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);

    fake.hook = () => undefined;
    resumes.splice(0).forEach((resume) => resume());
    const result = await running;
    expect(result.totalBytes).toBe(total);
    expect(await readdir(dir)).toEqual([]);
  });

  it('deletes every spooled part file when the upload fails', async () => {
    const fake = new FakeS3();
    fake.hook = (command) => {
      if (command instanceof UploadPartCommand && command.input.PartNumber === 2) throw s3Error('AccessDenied', 403);
    };
    const failed = upload(fake, sourceOf(randomData(8 * PART), 500), {
      chunkSizeBytes: 8 * PART,
      partSizeBytes: PART,
      concurrency: 2,
      spool: { dir, maxBytes: 6 * PART },
    });
    await expect(failed).rejects.toThrow(ChunkUploadError);
    expect(await readdir(dir)).toEqual([]);
    expect(fake.uploads.size).toBe(0);
  });
});
