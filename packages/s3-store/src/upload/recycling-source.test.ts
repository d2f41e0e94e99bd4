import type { RecyclingReadable } from '@org/btrfs-s3-core';
import { Readable } from 'node:stream';
import { FakeS3, randomData, sha256, upload } from '../__fakes__/upload-harness';
import type { ChunkEncoder } from './types';

/**
 * A source like `Btrfs.send`'s: reads of `readSize` into buffers it reuses once handed
 * back. A recycled buffer is overwritten at once, so a consumer that still used it (or
 * recycled it too early) would upload or hash the wrong bytes.
 */
class ReusingSource extends Readable implements RecyclingReadable {
  readonly recycled: Buffer[] = [];
  private readonly free: Buffer[] = [];
  private offset = 0;

  constructor(
    private readonly data: Buffer,
    private readonly readSize: number,
  ) {
    super({ objectMode: true, highWaterMark: 2 });
  }

  recycle(chunk: Buffer): void {
    this.recycled.push(chunk);
    chunk.fill(0xee);
    this.free.push(chunk);
  }

  override _read(): void {
    if (this.offset >= this.data.length) {
      this.push(null);
      return;
    }
    const size = Math.min(this.readSize, this.data.length - this.offset);
    const buffer = this.free.pop() ?? Buffer.alloc(this.readSize);
    this.data.copy(buffer, 0, this.offset, this.offset + size);
    this.offset += size;
    this.push(buffer.subarray(0, size));
  }
}

describe('uploadChunkedStream: a recycling source', () => {
  it('hands each read back only once its bytes are in their part, and stores and hashes exactly the source', async () => {
    const fake = new FakeS3();
    const data = randomData(1000);
    const source = new ReusingSource(data, 33);
    const result = await upload(fake, source, { chunkSizeBytes: 300, partSizeBytes: 64, concurrency: 3 });

    expect(source.recycled).toHaveLength(Math.ceil(1000 / 33));
    expect(result.streamSha256).toBe(sha256(data));
    let offset = 0;
    for (const chunk of result.chunks) {
      const expected = data.subarray(offset, offset + chunk.size);
      expect(fake.objects.get(chunk.key)).toEqual(expected);
      expect(chunk.sha256).toBe(sha256(expected));
      let partOffset = 0;
      for (const part of chunk.parts) {
        expect(part.sha256).toBe(sha256(expected.subarray(partOffset, partOffset + part.size)));
        partOffset += part.size;
      }
      offset += chunk.size;
    }
    expect(offset).toBe(1000);
  });

  it('hands nothing back when an encoder reads the source, as an encoder may keep what it read', async () => {
    const fake = new FakeS3();
    const data = randomData(200);
    const source = new ReusingSource(data, 16);
    const kept: Buffer[] = [];
    const encode: ChunkEncoder = async function* (plain) {
      for await (const piece of plain) if (Buffer.isBuffer(piece)) kept.push(piece);
      const whole = Buffer.concat(kept);
      yield whole;
      yield { kind: 'chunk-end', plainSize: whole.length, plainSha256: sha256(whole) };
      yield { kind: 'stream-end', plainSize: whole.length, plainSha256: sha256(whole) };
    };
    const result = await upload(fake, source, { chunkSizeBytes: 1000, partSizeBytes: 64 }, { encode });

    expect(source.recycled).toEqual([]);
    expect(result.streamSha256).toBe(sha256(data));
    expect(fake.objects.get(result.chunks[0]?.key ?? '')).toEqual(data);
  });
});
