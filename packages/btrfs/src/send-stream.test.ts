import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FakeRunner } from './__fakes__/fake-runner';
import { isRecyclingReadable, type ProcessRunner } from '@org/btrfs-s3-core';
import { Btrfs } from './btrfs';
import { Deferred } from './deferred';
import { BtrfsError } from './errors';
import { spawnProcessRunner } from './process-runner';

/** A sink that keeps what it is given, for pipeline. */
function sink() {
  const chunks: Buffer[] = [];
  const first = new Deferred<void>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      first.resolve();
      callback();
    },
  });
  return {
    stream,
    firstChunk: first.promise,
    text: () => Buffer.concat(chunks).toString('utf8'),
    bytes: () => Buffer.concat(chunks).length,
  };
}

describe('Btrfs.send', () => {
  it('runs btrfs send -p PARENT SNAPSHOT, ends its stdin, and streams stdout unchanged when it exits 0', async () => {
    const runner = new FakeRunner();
    const output = sink();
    const done = pipeline(new Btrfs(runner).send('/s/snap2', { parent: '/s/snap1' }), output.stream);
    const process = await runner.process;
    process.stdout.write('btrfs-stream\0');
    process.stdout.write('rest');
    process.exitWith({ exitCode: 0 });
    await done;
    expect(output.text()).toBe('btrfs-stream\0rest');
    expect(runner.calls).toEqual([['btrfs', 'send', '-p', '/s/snap1', '/s/snap2']]);
    expect(process.inputEnded).toBe(true);
  });

  it('waits for the exit status after stdout closes, and errors instead of ending when btrfs send failed after some output', async () => {
    const runner = new FakeRunner();
    const stream = new Btrfs(runner).send('/s/snap');
    let ended = false;
    stream.on('end', () => {
      ended = true;
    });
    const output = sink();
    const done = pipeline(stream, output.stream);
    const process = await runner.process;
    process.stdout.end('partial');
    await once(process.stdout, 'end');
    // One turn of the event loop: a stream that ended on EOF alone would have ended by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    process.exitWith({ exitCode: 1, stderr: 'At subvol /s/snap\nERROR: send ioctl failed with -5: Input/output error\n' });
    await expect(done).rejects.toThrow(BtrfsError);
    await expect(done).rejects.toThrow(
      'btrfs send failed: `btrfs send /s/snap` exited with code 1: ERROR: send ioctl failed with -5: Input/output error',
    );
    expect(output.text()).toBe('partial');
    expect(ended).toBe(false);
  });

  it('errors when btrfs cannot be started', async () => {
    const runner = new FakeRunner();
    const done = pipeline(new Btrfs(runner, '/nonexistent/btrfs').send('/s/snap'), sink().stream);
    const enoent = Object.assign(new Error('spawn /nonexistent/btrfs ENOENT'), { code: 'ENOENT' });
    (await runner.process).exitWith({ exitCode: null, error: enoent });
    await expect(done).rejects.toThrow(
      'btrfs send failed: `/nonexistent/btrfs send /s/snap` could not run: spawn /nonexistent/btrfs ENOENT',
    );
  });

  it('errors when btrfs send is killed by a signal', async () => {
    const runner = new FakeRunner();
    const done = pipeline(new Btrfs(runner).send('/s/snap'), sink().stream);
    (await runner.process).exitWith({ exitCode: null, signal: 'SIGKILL' });
    await expect(done).rejects.toThrow('btrfs send failed: `btrfs send /s/snap` was killed by SIGKILL');
  });

  it('kills btrfs send when the consumer aborts the pipeline', async () => {
    const runner = new FakeRunner();
    const abort = new AbortController();
    const output = sink();
    const done = pipeline(new Btrfs(runner).send('/s/snap'), output.stream, { signal: abort.signal });
    const process = await runner.process;
    process.stdout.write('some');
    await output.firstChunk;
    abort.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(process.kills).toEqual(['SIGTERM']);
  });

  it('does not kill btrfs send once it has exited', async () => {
    const runner = new FakeRunner();
    const stream = new Btrfs(runner).send('/s/snap');
    const process = await runner.process;
    process.exitWith({ exitCode: 0 });
    await process.completion;
    stream.destroy();
    await once(stream, 'close');
    expect(process.kills).toEqual([]);
  });

  it('stops taking btrfs send output while the consumer is not reading, and takes the rest once it reads', async () => {
    const chunk = 4 * 1024;
    const total = 256 * chunk;
    const runner = new FakeRunner(undefined, { stdoutHighWaterMark: chunk });
    const stream = new Btrfs(runner).send('/s/snap');
    const process = await runner.process;
    // Nobody reads `stream`, so it fills up and pauses its source: backpressure, not buffering.
    const paused = once(process.stdout, 'pause');
    // The fake's stdout stands in for the OS pipe: a whole stream waiting to be read.
    for (let written = 0; written < total; written += chunk) process.stdout.write(Buffer.alloc(chunk, 1));
    await paused;
    expect(stream.readableLength).toBeLessThanOrEqual(stream.readableHighWaterMark + chunk);
    // Taken from the pipe: what `stream` buffers for reading, plus at most as much again
    // waiting on its writable side (same default highWaterMark) and a chunk in transit.
    const taken = total - process.stdout.readableLength - process.stdout.writableLength;
    expect(taken).toBeLessThanOrEqual(2 * stream.readableHighWaterMark + 2 * chunk);

    const output = sink();
    const done = pipeline(stream, output.stream);
    process.exitWith({ exitCode: 0 });
    await done;
    expect(output.bytes()).toBe(total);
  });

  it('with reused buffers, reads a real program through the real runner exactly, ending only once it exited 0', async () => {
    // `btrfs send` played by a shell writing 3 MiB of a known pattern, then exiting with the status asked for.
    const program = (status: number): ProcessRunner => ({
      run: (command, args) => spawnProcessRunner.run(command, args),
      spawn: () => spawnProcessRunner.spawn('sh', ['-c', `head -c 3145728 /dev/zero | tr '\\0' 'x'; exit ${status}`]),
    });
    const fresh = new Btrfs(program(0)).send('/s/snap');
    expect(isRecyclingReadable(fresh)).toBe(false);
    fresh.destroy();
    const stream = new Btrfs(program(0)).send('/s/snap', { buffers: 'reused' });
    if (!isRecyclingReadable(stream)) throw new Error('not read into reused buffers');
    let bytes = 0;
    for await (const chunk of stream) {
      if (!Buffer.isBuffer(chunk) || chunk.some((byte) => byte !== 0x78)) throw new Error('wrong bytes');
      bytes += chunk.length;
      stream.recycle(chunk);
    }
    expect(bytes).toBe(3 * 1024 * 1024);

    const failing = new Btrfs(program(5)).send('/s/snap', { buffers: 'reused' });
    await expect(pipeline(failing, sink().stream)).rejects.toThrow('btrfs send failed: `btrfs send /s/snap` exited with code 5');
  });
});
