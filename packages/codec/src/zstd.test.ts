import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { compressFrame, rawFrame } from './zstd';

describe('zstd frames', () => {
  it.each([1, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 4 * 1024 * 1024])(
    'a raw frame of %i bytes decodes with Node and with the zstd CLI, a few bytes longer than its data',
    (size) => {
      const data = randomBytes(size);
      // In uneven pieces, as the send stream arrives: blocks span them.
      const pieces = [data.subarray(0, Math.floor(size / 3)), data.subarray(Math.floor(size / 3), size - 7), data.subarray(size - 7)];
      const frame = Buffer.concat(rawFrame(pieces, size));
      expect(zstdDecompressSync(frame).equals(data)).toBe(true);
      const cli = spawnSync('zstd', ['-d', '-c'], { input: frame, maxBuffer: 16 * 1024 * 1024 });
      expect(cli.status).toBe(0);
      expect(cli.stdout.equals(data)).toBe(true);
      expect(frame.length).toBe(size + 9 + 3 * Math.ceil(size / (128 * 1024)));
    },
  );

  it('compresses what shrinks and frames raw what does not', async () => {
    const text = Buffer.from('btrfs send stream of a log file\n'.repeat(100_000));
    const compressed = Buffer.concat(await compressFrame([text], text.length, 3));
    expect(compressed.length).toBeLessThan(text.length / 20);
    expect(zstdDecompressSync(compressed).equals(text)).toBe(true);
    const random = randomBytes(1024 * 1024);
    const stored = await compressFrame([random.subarray(0, 1000), random.subarray(1000)], random.length, 3);
    expect(stored.length).toBeGreaterThan(1); // raw blocks: the data's own buffers, not a copy
    expect(zstdDecompressSync(Buffer.concat(stored)).equals(random)).toBe(true);
  });
});
