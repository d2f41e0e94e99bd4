import { parseBenchArgs, parseSize, UsageError } from './args';

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
  it('defaults to 2 GiB and 3 rounds', () => {
    expect(parseBenchArgs([])).toEqual({ sizeBytes: 2 * 2 ** 30, rounds: 3, reportOnly: false, profile: true, startupOnly: false });
  });

  it('takes the options, with or without the -- pnpm passes through', () => {
    expect(parseBenchArgs(['--', '--size', '256M', '--rounds', '1', '--work', '/tmp/w', '--skip-profile'])).toEqual({
      sizeBytes: 256 * 2 ** 20,
      rounds: 1,
      reportOnly: false,
      profile: false,
      startupOnly: false,
      workDir: '/tmp/w',
    });
    expect(parseBenchArgs(['--startup-only', '--executable', '/opt/btrfs-to-s3/bin/btrfs-to-s3'])).toMatchObject({
      startupOnly: true,
      executable: '/opt/btrfs-to-s3/bin/btrfs-to-s3',
    });
    expect(parseBenchArgs(['--report-only', '--results', 'r.json', '--docs', 'out'])).toMatchObject({
      reportOnly: true,
      resultsPath: 'r.json',
      docsDir: 'out',
    });
  });

  it.each([[['--rounds', '0']], [['--rounds', 'x']], [['--bogus']], [['extra']], [['--report-only', '--startup-only']]])(
    'refuses %p',
    (args) => {
      expect(() => parseBenchArgs(args)).toThrow(UsageError);
    },
  );
});
