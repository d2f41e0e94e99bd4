import { describePlan, parseBenchArgs, parseSize, UsageError } from './args';

describe('parseSize', () => {
  it.each([
    ['2G', 2 * 2 ** 30],
    ['256M', 256 * 2 ** 20],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['512m', 512 * 2 ** 20],
    ['134217728', 134217728],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'big', '2X', '-1G', '1M'])('refuses %p', (text) => {
    expect(() => parseSize(text)).toThrow(UsageError);
  });
});

describe('parseBenchArgs', () => {
  it('defaults to 768M and 2G, 3 rounds, links at 100 and 500 Mbit/s, an 80 Mbit/s cap', () => {
    expect(parseBenchArgs([])).toEqual({
      mode: 'all',
      sizes: [
        { id: '768M', bytes: 768 * 2 ** 20 },
        { id: '2G', bytes: 2 * 2 ** 30 },
      ],
      rounds: 3,
      profile: true,
      tuned: { partSizeBytes: 128 * 2 ** 20, concurrency: 4 },
      linkRatesBitsPerSecond: [100e6, 500e6],
      linkRounds: 1,
      linkRttMs: 0,
      cap: { text: '80Mbit', bytesPerSecond: 10e6 },
    });
  });

  it('takes the options, with or without the -- pnpm passes through', () => {
    expect(parseBenchArgs(['--', '--size', '256M', '--rounds', '1', '--work', '/tmp/w', '--skip-profile'])).toMatchObject({
      sizes: [{ id: '256M', bytes: 256 * 2 ** 20 }],
      rounds: 1,
      profile: false,
      workDir: '/tmp/w',
    });
    expect(parseBenchArgs(['--startup-only', '--executable', '/opt/btrfs-to-s3/bin/btrfs-to-s3'])).toMatchObject({
      mode: 'startup-only',
      executable: '/opt/btrfs-to-s3/bin/btrfs-to-s3',
    });
    expect(parseBenchArgs(['--report-only', '--results', 'r.json', '--docs', 'out'])).toMatchObject({
      mode: 'report-only',
      resultsPath: 'r.json',
      docsDir: 'out',
    });
  });

  it('sorts the sizes, smallest first', () => {
    expect(parseBenchArgs(['--sizes', '2G, 512M']).sizes.map((size) => size.id)).toEqual(['512M', '2G']);
  });

  it('runs the link or the cap alone, or leaves either out', () => {
    expect(parseBenchArgs(['--link-only', '--link-rates', '50Mbit', '--link-rtt', '40ms', '--link-rounds', '2'])).toMatchObject({
      mode: 'link-only',
      linkRatesBitsPerSecond: [50e6],
      linkRttMs: 40,
      linkRounds: 2,
    });
    expect(parseBenchArgs(['--link-only']).cap).toBeUndefined();
    expect(parseBenchArgs(['--cap-only', '--cap-rate', '6MiB/s'])).toMatchObject({
      mode: 'cap-only',
      linkRatesBitsPerSecond: [],
      cap: { text: '6MiB/s', bytesPerSecond: 6 * 2 ** 20 },
    });
    expect(parseBenchArgs(['--skip-link', '--skip-cap'])).toMatchObject({ mode: 'all', linkRatesBitsPerSecond: [] });
    expect(parseBenchArgs(['--skip-cap']).cap).toBeUndefined();
  });

  it('takes tuned settings', () => {
    expect(parseBenchArgs(['--tuned-part-size', '64M', '--tuned-concurrency', '8']).tuned).toEqual({
      partSizeBytes: 64 * 2 ** 20,
      concurrency: 8,
    });
  });

  it.each([
    [['--rounds', '0']],
    [['--rounds', 'x']],
    [['--bogus']],
    [['extra']],
    [['--report-only', '--startup-only']],
    [['--link-only', '--cap-only']],
    [['--link-only', '--skip-link']],
    [['--size', '1G', '--sizes', '1G,2G']],
    [['--sizes', '1G,1024M']],
    [['--sizes', '1G,2G,3G,4G']],
    [['--link-rates', '100']],
    [['--link-rates', '']],
    [['--cap-rate', 'fast']],
    [['--link-rtt', 'long']],
    [['--tuned-part-size', '1M']],
  ])('refuses %p', (args) => {
    expect(() => parseBenchArgs(args)).toThrow(UsageError);
  });
});

describe('describePlan', () => {
  it('says what a run will do', () => {
    expect(describePlan(parseBenchArgs([]))).toBe(
      'comparison at 768M, 2G, 3 round(s); rate-limited runs at 100 Mbit/s, 500 Mbit/s, 1 round(s); rate cap 80 Mbit/s',
    );
    expect(describePlan(parseBenchArgs(['--link-only', '--link-rtt', '40']))).toBe(
      'rate-limited runs at 100 Mbit/s, 500 Mbit/s with 40 ms added round trip, 1 round(s)',
    );
  });
});
