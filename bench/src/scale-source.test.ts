import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { writeSource } from './scale-source';

async function collect(size: number, block: Buffer): Promise<Buffer> {
  const out = new PassThrough();
  const pieces: Buffer[] = [];
  out.on('data', (piece: Buffer) => pieces.push(Buffer.from(piece)));
  await writeSource(out, size, block);
  out.end();
  await text(out);
  return Buffer.concat(pieces);
}

describe('writeSource', () => {
  it('writes exactly the size asked, the last block cut short', async () => {
    const data = await collect(50, Buffer.alloc(16, 0xab));
    expect(data.length).toBe(50);
    expect(data.subarray(48)).toEqual(Buffer.from([0, 0]));
  });

  it('numbers every block, so no two blocks hash alike', async () => {
    const block = Buffer.alloc(16, 0xab);
    const data = await collect(64, block);
    const blocks = [0, 1, 2, 3].map((index) => data.subarray(index * 16, (index + 1) * 16));
    expect(blocks.map((piece) => piece.readBigUInt64BE(0))).toEqual([0n, 1n, 2n, 3n]);
    expect(blocks.every((piece) => piece.subarray(8).equals(Buffer.alloc(8, 0xab)))).toBe(true);
    expect(new Set(blocks.map((piece) => createHash('sha256').update(piece).digest('hex'))).size).toBe(4);
  });

  it('refuses a block too small for its number', async () => {
    await expect(writeSource(new PassThrough(), 10, Buffer.alloc(4))).rejects.toThrow(/8-byte number/);
  });
});
