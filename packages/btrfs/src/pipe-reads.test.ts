import { isRecyclingReadable } from '@org/btrfs-s3-core';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { PIPE_READ_BYTES, takeOverPipe } from './pipe-reads';

/** A child writing `blocks` blocks of 1 MiB, each filled with its number, then exiting with `code`. */
function writer(blocks: number, code = 0) {
  const script = `for (let i = 0; i < ${blocks}; i++) process.stdout.write(Buffer.alloc(1 << 20, i)); process.stdout.end(() => process.exit(${code}));`;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function expectedHash(blocks: number): string {
  const hash = createHash('sha256');
  for (let i = 0; i < blocks; i++) hash.update(Buffer.alloc(1 << 20, i));
  return hash.digest('hex');
}

const exitOf = (child: ReturnType<typeof writer>) =>
  once(child, 'exit').then(([code]) => (code === 0 ? undefined : new Error(`exited with ${String(code)}`)));

describe('takeOverPipe', () => {
  it('delivers exactly the bytes the child wrote, refilling recycled buffers, and ends once atEnd says so', async () => {
    const child = writer(16);
    const exited = exitOf(child);
    const reads = takeOverPipe(child.stdout, { atEnd: () => exited, onDestroy: () => undefined });
    if (reads === undefined) throw new Error('the pipe was not taken over');
    expect(isRecyclingReadable(reads)).toBe(true);
    const hash = createHash('sha256');
    const buffers = new Set<ArrayBufferLike>();
    let bytes = 0;
    for await (const chunk of reads) {
      if (!Buffer.isBuffer(chunk)) throw new Error('not a Buffer');
      expect(chunk.length).toBeLessThanOrEqual(PIPE_READ_BYTES);
      hash.update(chunk);
      bytes += chunk.length;
      buffers.add(chunk.buffer);
      reads.recycle(chunk);
    }
    expect(bytes).toBe(16 << 20);
    expect(hash.digest('hex')).toBe(expectedHash(16));
    // 16 MiB through a handful of buffers, not one per read.
    expect(buffers.size).toBeLessThan(10);
  });

  it('never refills a buffer the consumer still holds', async () => {
    const child = writer(4);
    const exited = exitOf(child);
    const reads = takeOverPipe(child.stdout, { atEnd: () => exited, onDestroy: () => undefined });
    if (reads === undefined) throw new Error('the pipe was not taken over');
    const held: Buffer[] = [];
    for await (const chunk of reads) if (Buffer.isBuffer(chunk)) held.push(chunk);
    const hash = createHash('sha256');
    for (const chunk of held) hash.update(chunk);
    expect(hash.digest('hex')).toBe(expectedHash(4));
  });

  it('fails with what atEnd returns instead of ending, when the child failed', async () => {
    const child = writer(1, 3);
    const exited = exitOf(child);
    const reads = takeOverPipe(child.stdout, { atEnd: () => exited, onDestroy: () => undefined });
    if (reads === undefined) throw new Error('the pipe was not taken over');
    const consume = async () => {
      for await (const chunk of reads) if (Buffer.isBuffer(chunk)) reads.recycle(chunk);
    };
    await expect(consume()).rejects.toThrow('exited with 3');
  });

  it('calls onDestroy when the consumer gives up, and still lets the child close', async () => {
    const child = spawn('sh', ['-c', 'exec yes'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = once(child, 'close');
    const destroyed = jest.fn(() => child.kill());
    const reads = takeOverPipe(child.stdout, { atEnd: async () => undefined, onDestroy: destroyed });
    if (reads === undefined) throw new Error('the pipe was not taken over');
    await once(reads, 'readable');
    reads.destroy();
    await closed;
    expect(destroyed).toHaveBeenCalled();
  });

  it('leaves a stream that is not a pipe socket, or one already read from, as it is', async () => {
    const options = { atEnd: async () => undefined, onDestroy: () => undefined };
    expect(takeOverPipe(new PassThrough(), options)).toBeUndefined();
    const child = writer(1);
    const exited = once(child, 'close');
    child.stdout.resume();
    await once(child.stdout, 'data');
    expect(takeOverPipe(child.stdout, options)).toBeUndefined();
    await exited;
  });
});
