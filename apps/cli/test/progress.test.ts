import { createLogger } from '@org/btrfs-s3-core';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describeProgress, progressRenderer } from '../src/progress';

const MiB = 1024 * 1024;

describe('describeProgress', () => {
  it('shows bytes, total, percent, rate and the time left for a transfer of known size', () => {
    expect(describeProgress(256 * MiB, 1024 * MiB, 2)).toBe('256.0 MiB of 1.0 GiB (25%) at 128.0 MiB/s, about 6 s left');
    expect(describeProgress(100 * MiB, 10_000 * MiB, 10)).toBe('100.0 MiB of 9.8 GiB (1%) at 10.0 MiB/s, about 17 min left');
  });

  it('shows bytes and rate only when the size is not known in advance (a send stream)', () => {
    expect(describeProgress(64 * MiB, undefined, 4)).toBe('64.0 MiB at 16.0 MiB/s');
  });
});

describe('progressRenderer without a terminal', () => {
  it("logs a restore's progress as 'restored' with its total, at most once per interval", async () => {
    const stream = new PassThrough();
    const logger = createLogger({ level: 'info', format: 'json', stream });
    let clock = 0;
    const render = progressRenderer({ tty: false, logger, intervalSeconds: 10, now: () => clock });
    const event = { phase: 'download', subvolume: 'data', label: 'data full', totalBytes: 100 * MiB } as const;
    render({ ...event, bytes: 0, done: false }); // the transfer starts at 0 s
    clock = 5_000;
    render({ ...event, bytes: 25 * MiB, done: false }); // within the first interval: no line
    clock = 10_000;
    render({ ...event, bytes: 50 * MiB, done: false });
    render({ ...event, bytes: 100 * MiB, done: true });
    const written = text(stream);
    const flushed = once(logger, 'finish');
    logger.end(); // every line reaches the stream before 'finish'
    await flushed;
    stream.end();
    const lines = (await written)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).message);
    expect(lines).toEqual(['data full: restored 50.0 MiB of 100.0 MiB (50%) at 5.0 MiB/s, about 10 s left']);
  });
});
