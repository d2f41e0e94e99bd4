import { ConfigError } from '../errors';
import { ExitCode } from '../exit-codes';
import { loadRemoteConfig, parseConfig } from './load';
import { quantityUnit } from './quantity';
import { CONFIG_SECTIONS } from './schema';
import { GiB, MiB, TiB } from './units';
import { MINIMAL } from '../__fixtures__/config';

/** MINIMAL with `lines` added to the [s3] section (and `restore` lines to a [restore] section). */
const withS3 = (lines: string, restore = '') => `${MINIMAL}${lines}\n${restore === '' ? '' : `[restore]\n${restore}\n`}`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
    throw error;
  }
  return [];
}

const NOT_A_SIZE =
  'is not a size: use a number of bytes, or a number and one of B, kB, MB, GB, TB (1000-based) or KiB, MiB, GiB, TiB (1024-based), like "128MiB"';

describe('sizes (*_bytes keys)', () => {
  it('reads binary and decimal units, with or without a space, and plain numbers as before', () => {
    const config = parseConfig(
      withS3(
        'part_size_bytes = "256MiB"\nchunk_size_bytes = "100 GB"\nmax_object_size_bytes = 5497558138880',
        'max_part_size_bytes = "1.5GiB"',
      ).replace('[snapshots]', '[global]\nspool_size_bytes = "512"\n[snapshots]'),
    );
    expect(config.s3.part_size_bytes).toBe(256 * MiB);
    expect(config.s3.chunk_size_bytes).toBe(100_000_000_000);
    expect(config.s3.max_object_size_bytes).toBe(5 * TiB);
    expect(config.restore.max_part_size_bytes).toBe(1.5 * GiB);
    expect(config.global.spool_size_bytes).toBe(512);
  });

  it('accepts a fraction of a unit that comes to whole bytes', () => {
    expect(parseConfig(withS3('chunk_size_bytes = "1.5KiB"')).s3.chunk_size_bytes).toBe(1536);
  });

  it.each(['128M', '1g', '128KB', '128mib', '128MIB', '-1MiB', '1e9', '128 Mi B', ''])(
    'refuses %j, naming the key and the accepted forms',
    (text) => {
      expect(problems(withS3(`part_size_bytes = ${JSON.stringify(text)}`))).toEqual([
        `s3.part_size_bytes: ${JSON.stringify(text)} ${NOT_A_SIZE}`,
      ]);
    },
  );

  it('refuses a fraction of a byte', () => {
    expect(problems(withS3('chunk_size_bytes = "0.3B"'))).toEqual(['s3.chunk_size_bytes: "0.3B" is not a whole number of bytes']);
  });

  it('refuses a size a double cannot hold exactly', () => {
    expect(problems(withS3('max_object_size_bytes = "8192TiB"'))).toEqual([
      's3.max_object_size_bytes: "8192TiB" is too large (2^53 bytes or more)',
    ]);
  });

  it('refuses another type, saying what a size is', () => {
    expect(problems(withS3('part_size_bytes = true'))).toEqual([
      's3.part_size_bytes: must be a number of bytes or a size like "128MiB", got true',
    ]);
  });

  it("checks the key's own rules on the converted number", () => {
    expect(problems(withS3('part_size_bytes = "4MiB"'))).toEqual(['s3.part_size_bytes: must be at least 5 MiB (5242880), got 4194304']);
    expect(problems(withS3('part_size_bytes = "5.5GiB"'))).toEqual([
      's3.part_size_bytes: must be at most 5 GiB (5368709120), got 5905580032',
    ]);
    expect(problems(withS3('chunk_size_bytes = "0MiB"'))).toEqual(['s3.chunk_size_bytes: must be greater than 0, got 0']);
    expect(problems(withS3('part_size_bytes = "5MiB"\nchunk_size_bytes = "5GiB"'))).toEqual([]);
  });

  it('runs the cross-key checks on the converted numbers', () => {
    // 10,000 parts of 5 MiB is the most a chunk may hold; one byte more needs a 10,001st part.
    expect(problems(withS3('part_size_bytes = "5MiB"\nchunk_size_bytes = "50000MiB"'))).toEqual([]);
    expect(problems(withS3('part_size_bytes = "5MiB"\nchunk_size_bytes = "50001MiB"'))).toEqual([
      's3.chunk_size_bytes: needs more than 10000 parts of s3.part_size_bytes per chunk; raise s3.part_size_bytes or lower s3.chunk_size_bytes',
    ]);
    expect(problems(withS3('max_object_size_bytes = "1GiB"\nchunk_size_bytes = "2GB"'))).toEqual([
      's3.chunk_size_bytes: must not exceed s3.max_object_size_bytes',
    ]);
    expect(problems(withS3('max_object_size_bytes = "1GiB"\nchunk_size_bytes = "1GB"'))).toEqual([]);
  });
});

describe('durations (*_seconds, *_hours and *_days keys)', () => {
  it("converts to the key's unit", () => {
    const config = parseConfig(
      withS3(
        'prune_grace_hours = "2d"\nrequest_timeout_seconds = "2m"\nconnect_timeout_seconds = "1m30s"\nstale_upload_age_hours = "0h"',
        'restore_timeout_seconds = "72h"\nthaw_poll_seconds = "5m"',
      ).replace('[snapshots]', '[schedule]\nfull_every_days = "12h"\nincremental_every_days = 7\n[snapshots]'),
    );
    expect(config.s3).toMatchObject({
      prune_grace_hours: 48,
      request_timeout_seconds: 120,
      connect_timeout_seconds: 90,
      stale_upload_age_hours: 0,
    });
    expect(config.restore).toMatchObject({ restore_timeout_seconds: 72 * 3600, thaw_poll_seconds: 300 });
    expect(config.schedule).toMatchObject({ full_every_days: 0.5, incremental_every_days: 7 });
  });

  it('gives a key that takes fractions the fraction', () => {
    expect(parseConfig(withS3('prune_grace_hours = "90m"')).s3.prune_grace_hours).toBe(1.5);
    expect(parseConfig(withS3('retry_base_seconds = "0.25s"')).s3.retry_base_seconds).toBe(0.25);
  });

  it('refuses a fraction where the key takes whole numbers, naming the unit', () => {
    expect(problems(withS3('', 'restore_timeout_seconds = "1.5s"'))).toEqual([
      'restore.restore_timeout_seconds: "1.5s" is not a whole number of seconds',
    ]);
    expect(problems(`[global]\nprogress_interval_seconds = "0.5m"\n${MINIMAL}`)).toEqual([]);
    expect(problems(`[global]\nprogress_interval_seconds = "0.01m"\n${MINIMAL}`)).toEqual([
      'global.progress_interval_seconds: "0.01m" is not a whole number of seconds',
    ]);
  });

  it.each([
    [
      'prune_grace_hours',
      '2 days',
      'is not a duration: use a number of hours, or numbers with d, h, m, s (largest first, as in "1h30m"), like "72h"',
    ],
    [
      'request_timeout_seconds',
      '2M',
      'is not a duration: use a number of seconds, or numbers with d, h, m, s (largest first, as in "1h30m"), like "2m"',
    ],
    [
      'retry_cap_seconds',
      '30m1h',
      'is not a duration: use a number of seconds, or numbers with d, h, m, s (largest first, as in "1h30m"), like "2m"',
    ],
    [
      'stale_upload_age_hours',
      '-1h',
      'is not a duration: use a number of hours, or numbers with d, h, m, s (largest first, as in "1h30m"), like "72h"',
    ],
  ])('refuses %s = %j, naming the key and the accepted forms', (key, text, message) => {
    expect(problems(withS3(`${key} = ${JSON.stringify(text)}`))).toEqual([`s3.${key}: ${JSON.stringify(text)} ${message}`]);
  });

  it("checks the key's own rules on the converted number", () => {
    expect(problems(withS3('prune_grace_hours = "0m"'))).toEqual(['s3.prune_grace_hours: must be greater than 0, got 0']);
    expect(problems(`[schedule]\nfull_every_days = "0d"\n${MINIMAL}`)).toEqual(['schedule.full_every_days: must be greater than 0, got 0']);
  });
});

describe('sizes and durations from environment overrides', () => {
  it('reads the same units as the file, and plain numbers as before', () => {
    const config = parseConfig(MINIMAL, {
      env: {
        BTRFS_TO_S3__S3__PART_SIZE_BYTES: '256MiB',
        BTRFS_TO_S3__S3__CHUNK_SIZE_BYTES: '1 TB',
        BTRFS_TO_S3__S3__PRUNE_GRACE_HOURS: '2d',
        BTRFS_TO_S3__RESTORE__RESTORE_TIMEOUT_SECONDS: '1h30m',
        BTRFS_TO_S3__S3__RETRY_CAP_SECONDS: '45',
      },
    });
    expect(config.s3).toMatchObject({ part_size_bytes: 256 * MiB, chunk_size_bytes: 1e12, prune_grace_hours: 48, retry_cap_seconds: 45 });
    expect(config.restore.restore_timeout_seconds).toBe(5400);
  });

  it('names the variable when its value is not a size or duration', () => {
    expect(problems(MINIMAL, { BTRFS_TO_S3__S3__PART_SIZE_BYTES: '128M', BTRFS_TO_S3__S3__PRUNE_GRACE_HOURS: '1.5x' })).toEqual([
      `s3.part_size_bytes: "128M" ${NOT_A_SIZE} (set by environment variable BTRFS_TO_S3__S3__PART_SIZE_BYTES)`,
      's3.prune_grace_hours: "1.5x" is not a duration: use a number of hours, or numbers with d, h, m, s (largest first, as in "1h30m"), like "72h" (set by environment variable BTRFS_TO_S3__S3__PRUNE_GRACE_HOURS)',
    ]);
  });

  it('keeps a negative number a number, so its rule names it', () => {
    expect(problems(MINIMAL, { BTRFS_TO_S3__S3__STALE_UPLOAD_AGE_HOURS: '-1' })).toEqual([
      's3.stale_upload_age_hours: must be 0 or more, got -1 (set by environment variable BTRFS_TO_S3__S3__STALE_UPLOAD_AGE_HOURS)',
    ]);
  });

  it('runs the cross-key checks on a converted override against the file', () => {
    expect(problems(withS3('part_size_bytes = 5242880'), { BTRFS_TO_S3__S3__CHUNK_SIZE_BYTES: '50001MiB' })).toEqual([
      's3.chunk_size_bytes: needs more than 10000 parts of s3.part_size_bytes per chunk; raise s3.part_size_bytes or lower s3.chunk_size_bytes (set by environment variable BTRFS_TO_S3__S3__CHUNK_SIZE_BYTES)',
    ]);
  });
});

describe('sizes and durations everywhere', () => {
  const entries = Object.entries(CONFIG_SECTIONS).flatMap(([section, schema]) =>
    Object.entries(schema.entries).map(([key, entry]) => ({ name: `${section}.${key}`, key, entry })),
  );

  it.each(entries)('$name takes units exactly when its name ends in one', ({ key, entry }) => {
    const suffix = /_(bytes|seconds|hours|days|rate)$/.exec(key)?.[1];
    expect(quantityUnit(entry)).toBe(suffix === 'rate' ? 'bytes_per_second' : suffix);
  });

  it('reads units in restore, list and verify too (loadRemoteConfig)', async () => {
    const config = await loadRemoteConfig(
      undefined,
      { BTRFS_TO_S3__RESTORE__MAX_PART_SIZE_BYTES: '1GiB' },
      {
        bucket: 'my-backups',
        region: 'eu-central-1',
        prefix: 'host1',
      },
    );
    expect(config.restore.max_part_size_bytes).toBe(GiB);
  });

  it('fails with the usage exit code before anything else happens', () => {
    expect(() => parseConfig(withS3('part_size_bytes = "128M"'))).toThrow(
      expect.objectContaining({ exitCode: ExitCode.Usage, message: expect.stringContaining('s3.part_size_bytes: "128M" is not a size') }),
    );
  });
});
