// The send stream of a scale run, as a process of its own that the uploader reads through
// a pipe (as it reads `btrfs send`): one random block written over and over, each time
// with its number in its first 8 bytes, so no two parts hash alike. Writing it costs a
// copy into the pipe and nothing else, so the uploader, not the source, sets the pace.
//
//   node scale-source.js BYTES
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';

export const SOURCE_BLOCK_BYTES = 64 * 1024 * 1024;

function write(out: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => out.write(data, (error) => (error ? reject(error) : resolve())));
}

/** Writes `size` bytes; `block` is reused, so a write must be done with it before its number changes. */
export async function writeSource(out: Writable, size: number, block: Buffer = randomBytes(SOURCE_BLOCK_BYTES)): Promise<void> {
  if (block.length < 8) throw new RangeError('the source block must hold its 8-byte number');
  let written = 0;
  for (let number = 0n; written < size; number += 1n) {
    block.writeBigUInt64BE(number, 0);
    const piece = block.subarray(0, Math.min(block.length, size - written));
    // Awaiting the callback keeps one block in flight: the next number overwrites it only once the pipe has it.
    await write(out, piece);
    written += piece.length;
  }
}

if (require.main === module) {
  const size = Number(process.argv[2]);
  if (!Number.isSafeInteger(size) || size < 0) {
    process.stderr.write('usage: node scale-source.js BYTES\n');
    process.exit(2);
  }
  const stop = (error: unknown) => {
    // EPIPE: the uploader stopped reading (it failed or was stopped) and reports why itself.
    const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code !== 'EPIPE') process.stderr.write(`scale-source: ${String(error)}\n`);
    process.exit(1);
  };
  // A failed write is reported both to its callback and as the stream's 'error'.
  process.stdout.on('error', stop);
  writeSource(process.stdout, size).then(() => process.stdout.end(), stop);
}
