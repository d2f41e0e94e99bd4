import { createLogger, type ProgressEvent } from '@org/btrfs-s3-core';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LogOutput } from '../src/progress/log-output';
import { TransferMeter } from '../src/progress/meter';
import { progressRenderer } from '../src/progress/render';
import { barLine, formatDuration, logLine } from '../src/progress/text';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A backup's upload of `data`, with the counts at 0 unless given. */
const upload = (fields: Partial<ProgressEvent> & { bytes: number }): ProgressEvent => ({
  phase: 'upload',
  subvolume: 'data',
  label: 'data',
  chunks: 0,
  parts: 0,
  retries: 0,
  done: false,
  ...fields,
});

/** A clock the test moves, and a meter on it that saw the transfer start at 0 s. */
function metered(first: ProgressEvent): { meter: TransferMeter; at: (seconds: number, event: ProgressEvent) => void } {
  let clock = 0;
  const meter = new TransferMeter(first, () => clock);
  return {
    meter,
    at: (seconds, event) => {
      clock = seconds * 1000;
      meter.record(event);
    },
  };
}

describe('the progress facts and their text', () => {
  it('shows percent, the "~" estimate, the current rate, elapsed time and ETA of a backup with an estimate', () => {
    const estimate = { estimatedTotalBytes: 12 * GiB };
    const { meter, at } = metered(upload({ bytes: 0, ...estimate }));
    for (let second = 1; second <= 40; second += 1) at(second, upload({ bytes: second * 128 * MiB, parts: second, ...estimate }));

    const facts = meter.facts();
    expect(facts).toMatchObject({
      bytes: 5 * GiB,
      totalBytes: 12 * GiB,
      estimated: true,
      exceeded: false,
      percent: 41,
      elapsedSeconds: 40,
    });
    expect(facts.bytesPerSecond).toBe(128 * MiB);
    expect(facts.etaSeconds).toBe(56); // 7 GiB at 128 MiB/s
    expect(logLine('data', 'uploaded', facts)).toBe(
      'data: uploaded 5.0 GiB of ~12.0 GiB (41%) at 128.0 MiB/s, elapsed 40s, ETA 56s; chunks 0, parts 40, retries 0',
    );
    expect(barLine('data', facts, '==========--------------', 200)).toBe(
      'data [==========--------------] 41% | 5.0 GiB of ~12.0 GiB | ETA 56s | 128.0 MiB/s | elapsed 40s | chunks 0, parts 40, retries 0',
    );
  });

  it('measures the rate over the last 15 s, not on average since the start, and the ETA from it', () => {
    const total = { totalBytes: 2000 * MiB };
    const { meter, at } = metered(upload({ phase: 'download', bytes: 0, ...total }));
    for (let second = 1; second <= 100; second += 1) at(second, upload({ phase: 'download', bytes: second * 10 * MiB, ...total }));
    for (let second = 101; second <= 120; second += 1)
      at(second, upload({ phase: 'download', bytes: (1000 + second - 100) * MiB, ...total }));

    const facts = meter.facts();
    expect(facts.bytesPerSecond).toBe(MiB); // the average since the start is 8.5 MiB/s
    expect(facts.etaSeconds).toBe(980);
    expect(logLine('data', 'restored', facts)).toBe(
      'data: restored 1020.0 MiB of 2.0 GiB (51%) at 1.0 MiB/s, elapsed 2m00s, ETA 16m20s; chunks 0, parts 0, retries 0',
    );
  });

  it('shows a transfer that stalled for longer than the window at 0 B/s, with no ETA, not at its last rate', () => {
    const estimate = { estimatedTotalBytes: GiB };
    const { meter, at } = metered(upload({ bytes: 0, ...estimate }));
    for (let second = 1; second <= 20; second += 1) at(second, upload({ bytes: second * 10 * MiB, ...estimate }));
    at(30, upload({ bytes: 200 * MiB, retries: 1, ...estimate }));
    expect(meter.facts().bytesPerSecond).toBeCloseTo((50 * MiB) / 15); // since 15 s: still moving
    at(40, upload({ bytes: 200 * MiB, retries: 2, ...estimate }));

    const facts = meter.facts();
    expect(facts).toMatchObject({ bytesPerSecond: 0, etaSeconds: undefined, percent: 19 });
    expect(logLine('data', 'uploaded', facts)).toBe(
      'data: uploaded 200.0 MiB of ~1.0 GiB (19%) at 0 B/s, elapsed 40s, ETA --; chunks 0, parts 0, retries 2',
    );
  });

  it('says "estimate exceeded" past the estimate, with no percent above 100 and no ETA', () => {
    const estimate = { estimatedTotalBytes: 10 * GiB };
    const { meter, at } = metered(upload({ bytes: 0, ...estimate }));
    at(100, upload({ bytes: 11 * GiB, ...estimate }));

    const facts = meter.facts();
    expect(facts).toMatchObject({ exceeded: true, percent: undefined, etaSeconds: undefined });
    expect(logLine('data', 'uploaded', facts)).toBe(
      'data: uploaded 11.0 GiB of ~10.0 GiB, estimate exceeded at 112.6 MiB/s, elapsed 1m40s; chunks 0, parts 0, retries 0',
    );
    expect(barLine('data', facts, '========================', 200)).toBe(
      'data [========================] | 11.0 GiB of ~10.0 GiB, estimate exceeded | 112.6 MiB/s | elapsed 1m40s | chunks 0, parts 0, retries 0',
    );
  });

  it('stays at 99% while a transfer is still at its estimate, and ends at 100% with the exact size', () => {
    const estimate = { estimatedTotalBytes: GiB };
    const { meter, at } = metered(upload({ bytes: 0, ...estimate }));
    at(10, upload({ bytes: GiB, ...estimate }));
    expect(meter.facts().percent).toBe(99);

    at(11, upload({ bytes: 900 * MiB, chunks: 1, parts: 8, ...estimate, done: true }));
    const facts = meter.facts();
    expect(facts).toMatchObject({ percent: 100, state: 'completed', etaSeconds: undefined });
    expect(logLine('data', 'uploaded', facts)).toMatch(
      /^data: uploaded 900\.0 MiB \(100%\) at .*, elapsed 11s, done; chunks 1, parts 8, retries 0$/,
    );
  });

  it('shows bytes, rate and elapsed time only for a first backup, which has no estimate', () => {
    const { meter, at } = metered(upload({ bytes: 0 }));
    at(4, upload({ bytes: 64 * MiB, parts: 1 }));

    const facts = meter.facts();
    expect(facts).toMatchObject({ totalBytes: undefined, percent: undefined, etaSeconds: undefined });
    expect(logLine('data', 'uploaded', facts)).toBe('data: uploaded 64.0 MiB at 16.0 MiB/s, elapsed 4s; chunks 0, parts 1, retries 0');
    expect(barLine('data', facts, undefined, 200)).toBe('data | 64.0 MiB | 16.0 MiB/s | elapsed 4s | chunks 0, parts 1, retries 0');
  });

  it('says a failed transfer stopped, where it stopped', () => {
    const { meter, at } = metered(upload({ bytes: 0, totalBytes: GiB }));
    at(10, upload({ bytes: 256 * MiB, totalBytes: GiB, done: true, failed: true }));
    expect(logLine('data', 'restored', meter.facts())).toBe(
      'data: restored 256.0 MiB of 1.0 GiB (25%) at 25.6 MiB/s, elapsed 10s, stopped; chunks 0, parts 0, retries 0',
    );
  });

  it('drops the least important fields of a bar line first on a narrow terminal', () => {
    const { meter, at } = metered(upload({ bytes: 0, estimatedTotalBytes: 12 * GiB }));
    at(40, upload({ bytes: 5 * GiB, estimatedTotalBytes: 12 * GiB }));
    expect(barLine('data', meter.facts(), '====------', 60)).toBe('data [====------] 41% | 5.0 GiB of ~12.0 GiB | ETA 56s');
  });

  it('writes durations in whole units', () => {
    expect([5, 59.6, 185, 7500, 10 * 86_400 + 4 * 3600].map(formatDuration)).toEqual(['5s', '1m00s', '3m05s', '2h05m', '10d04h']);
  });
});

describe('progressRenderer without a terminal', () => {
  it('logs the same facts at most once per interval', async () => {
    const stream = new PassThrough();
    const logger = createLogger({ level: 'info', format: 'json', stream });
    let clock = 0;
    const render = progressRenderer({ mode: 'log', logger, intervalSeconds: 10, now: () => clock });
    const event = upload({ phase: 'download', bytes: 0, totalBytes: 100 * MiB });
    render(event); // the transfer starts at 0 s
    clock = 5_000;
    render({ ...event, bytes: 25 * MiB, parts: 1 }); // within the first interval: no line
    clock = 10_000;
    render({ ...event, bytes: 50 * MiB, chunks: 1, parts: 2, retries: 1 });
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
    expect(lines).toEqual(['data: restored 50.0 MiB of 100.0 MiB (50%) at 5.0 MiB/s, elapsed 10s, ETA 10s; chunks 1, parts 2, retries 1']);
  });
});

describe('progressRenderer on a terminal', () => {
  /** Keeps what is written to `stream`; `shows` resolves once it holds `pattern`. */
  function recorder(stream: PassThrough): { text: () => string; shows: (pattern: RegExp) => Promise<void> } {
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    const text = () => chunks.join('');
    const shows = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!pattern.test(text())) return;
          stream.off('data', check);
          resolve();
        };
        stream.on('data', check);
        check();
      });
    return { text, shows };
  }

  it('draws a bar with percent and ETA, prints log lines above it, and stops routing them when the transfer ends', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    const screen = recorder(tty);
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    const direct = recorder(stderr);
    const logOutput = new LogOutput(stderr);
    const logger = createLogger({ level: 'info', format: 'human', color: false, stream: logOutput });
    let clock = 0;
    const render = progressRenderer({ mode: 'bar', stream: tty, logOutput, now: () => clock });
    const estimate = { estimatedTotalBytes: 4 * GiB };
    const last = upload({ bytes: GiB + 128 * MiB, parts: 9, retries: 1, ...estimate, done: true, failed: true });
    let ended = false;

    try {
      render(upload({ bytes: 0, ...estimate }));
      clock = 8_000;
      render(upload({ bytes: GiB, parts: 8, ...estimate }));
      await screen.shows(/\] 25% \| 1\.0 GiB of ~4\.0 GiB \| ETA 24s \| 128\.0 MiB\/s \| elapsed 8s \| chunks 0, parts 8, retries 0/);
      logger.warn('UploadPart of part-00000.bin part 9 failed; retrying in 1.0 s');
      await screen.shows(/warn UploadPart of part-00000\.bin part 9 failed; retrying in 1\.0 s\n[^]*data \[/);
      clock = 9_000;
      render(last);
      ended = true;
    } finally {
      if (!ended) render(last); // stops the bar's redraw timer
    }
    logger.info('after the bar');
    await direct.shows(/info after the bar\n$/);

    const text = screen.text();
    const warning = text.indexOf('warn UploadPart');
    const clearLine = '\u001b[2K';
    // The bar's line is cleared before the log line (its time first) takes it.
    expect(
      text
        .slice(0, warning)
        .replace(/\d\d:\d\d:\d\d $/, '')
        .endsWith(clearLine),
    ).toBe(true);
    expect(text.slice(text.lastIndexOf('data ['))).toMatch(
      /^data \[=+-+\] 28% \| 1\.1 GiB of ~4\.0 GiB \| stopped \| 128\.0 MiB\/s \| elapsed 9s \| chunks 0, parts 9, retries 1/,
    );
    expect(direct.text()).not.toContain('UploadPart'); // above the bar, not across it
    expect(text).not.toContain('after the bar');
  });
});
