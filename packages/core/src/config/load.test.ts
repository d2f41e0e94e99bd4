import { mkdtemp as makeTemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { ExitCode } from '../exit-codes';
import { loadConfig, loadRemoteConfig, parseConfig, validateConfig } from './load';
import { defaultStateDir } from './default-paths';
import { GiB, MiB, TiB } from './units';
import { MINIMAL } from '../__fixtures__/config';

/** A temp directory, removed after the file's tests. */
const temps: string[] = [];
afterAll(() => Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true }))));
async function mkdtemp(prefix: string): Promise<string> {
  const dir = await makeTemp(prefix);
  temps.push(dir);
  return dir;
}

/** The issues a TOML text produces, as "key: message" lines. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
    throw error;
  }
  return [];
}

function keys(text: string, env: Record<string, string> = {}): string[] {
  return problems(text, env).map((line) => line.split(':')[0] ?? '');
}

describe('config defaults', () => {
  it("puts root state under /var/lib and anyone else's under ~/.local/state", () => {
    expect(defaultStateDir(0)).toBe('/var/lib/btrfs-to-s3');
    expect(defaultStateDir(1000)).toBe(join(homedir(), '.local/state/btrfs_to_s3'));
  });

  it('fills every default of SPEC section 7 from a minimal file', () => {
    const config = parseConfig(MINIMAL);
    expect(config.global).toEqual({
      log_level: 'info',
      state_path: join(defaultStateDir(), 'state.json'),
      lock_path: '/run/btrfs-to-s3/lock',
      spool_dir: '/var/tmp/btrfs_to_s3/spool',
      spool_size_bytes: 200 * GiB,
      metrics_path: join(defaultStateDir(), 'metrics.json'),
      progress_interval_seconds: 60,
    });
    expect(config.schedule).toEqual({ full_every_days: 180, incremental_every_days: 7, run_at: '02:00' });
    expect(config.snapshots).toEqual({ base_dir: '/srv/.snapshots', retain: 2 });
    expect(config.s3).toEqual({
      bucket: 'my-backups',
      region: 'eu-central-1',
      prefix: 'host1',
      path_style: false,
      checksum_mode: 'auto',
      chunk_size_bytes: 200 * GiB,
      part_size_bytes: 128 * MiB,
      max_object_size_bytes: 5 * TiB,
      storage_class_chunks: 'DEEP_ARCHIVE',
      storage_class_manifest: 'STANDARD',
      concurrency: 4,
      spool_enabled: false,
      compression: 'none',
      compression_level: 3,
      sse: 'AES256',
      retain_generations: 1,
      prune_after_backup: true,
      prune_grace_hours: 24,
      stale_upload_age_hours: 24,
      resume_max_age_hours: 168,
      request_timeout_seconds: 120,
      connect_timeout_seconds: 10,
      retry_attempts: 5,
      retry_base_seconds: 1,
      retry_cap_seconds: 30,
    });
    expect(config.restore).toEqual({
      verify_mode: 'full',
      sample_max_files: 1000,
      wait_for_restore: true,
      restore_timeout_seconds: 72 * 3600,
      restore_tier: 'Standard',
      thaw_poll_seconds: 60,
      max_part_size_bytes: 512 * MiB,
    });
  });

  it('keeps values that are set', () => {
    const config = parseConfig(`${MINIMAL}\n[restore]\nverify_mode = "sample"\ntarget_base_dir = "/mnt/restore"\n`);
    expect(config.restore.verify_mode).toBe('sample');
    expect(config.restore.target_base_dir).toBe('/mnt/restore');
  });

  it('expands ~ in paths to the home directory', () => {
    const config = parseConfig(MINIMAL.replace('[snapshots]', '[global]\nstate_path = "~/state.json"\nspool_dir = "~"\n[snapshots]'));
    expect(config.global.state_path).toBe(join(homedir(), 'state.json'));
    expect(config.global.spool_dir).toBe(homedir());
  });

  it('strips slashes around the prefix', () => {
    expect(parseConfig(MINIMAL.replace('"host1"', '"/host1/"')).s3.prefix).toBe('host1');
  });

  it('reads SSE-KMS with its key, and an Object Lock table inline or as its own section', () => {
    const kms = parseConfig(`${MINIMAL}sse = "aws:kms"\nsse_kms_key_id = "arn:aws:kms:eu-central-1:111122223333:key/abc"\n`);
    expect(kms.s3).toMatchObject({ sse: 'aws:kms', sse_kms_key_id: 'arn:aws:kms:eu-central-1:111122223333:key/abc' });
    expect(parseConfig(`${MINIMAL}sse = "aws:kms"\n`).s3.sse_kms_key_id).toBeUndefined();
    const inline = parseConfig(`${MINIMAL}object_lock = { mode = "governance", days = 30 }\n`);
    const section = parseConfig(`${MINIMAL}[s3.object_lock]\nmode = "governance"\ndays = 30\n`);
    expect(inline.s3.object_lock).toEqual({ mode: 'governance', days: 30 });
    expect(section.s3.object_lock).toEqual(inline.s3.object_lock);
    expect(parseConfig(MINIMAL).s3.object_lock).toBeUndefined();
  });
});

describe('config validation rules', () => {
  const replaceIn = (from: string, to: string) => MINIMAL.replace(from, to);

  it.each([
    ['a relative path', replaceIn('"/srv/.snapshots"', '"snapshots"'), 'snapshots.base_dir'],
    ['a relative subvolume path', replaceIn('"/srv/home"', '"srv/home"'), 'subvolumes.paths.1'],
    ['an empty subvolume list', replaceIn('["/srv/data", "/srv/home"]', '[]'), 'subvolumes.paths'],
    ['two subvolumes with one name', replaceIn('"/srv/home"', '"/other/data"'), 'subvolumes.paths'],
    ['a base dir that is a subvolume', replaceIn('"/srv/.snapshots"', '"/srv/data"'), 'snapshots.base_dir'],
    ['a bad bucket name', replaceIn('"my-backups"', '"My_Backups"'), 's3.bucket'],
    ['an empty region', replaceIn('"eu-central-1"', '""'), 's3.region'],
    ['an empty prefix', replaceIn('"host1"', '"/"'), 's3.prefix'],
    ['an endpoint that is not a URL', `${MINIMAL}endpoint = "localhost 7480"\n`, 's3.endpoint'],
    ['a zero chunk size', `${MINIMAL}chunk_size_bytes = 0\n`, 's3.chunk_size_bytes'],
    ['a part below 5 MiB', `${MINIMAL}part_size_bytes = 5242879\n`, 's3.part_size_bytes'],
    ['a part above 5 GiB', `${MINIMAL}part_size_bytes = 5368709121\n`, 's3.part_size_bytes'],
    ['a fractional part size', `${MINIMAL}part_size_bytes = 6000000.5\n`, 's3.part_size_bytes'],
    ['more than 10,000 parts per chunk', `${MINIMAL}part_size_bytes = 5242880\nchunk_size_bytes = 52428800001\n`, 's3.chunk_size_bytes'],
    [
      'a chunk above the object size limit',
      `${MINIMAL}max_object_size_bytes = 1073741824\nchunk_size_bytes = 2147483648\n`,
      's3.chunk_size_bytes',
    ],
    ['a bad chunk storage class', `${MINIMAL}storage_class_chunks = "COLD"\n`, 's3.storage_class_chunks'],
    ['a bad manifest storage class', `${MINIMAL}storage_class_manifest = "deep_archive"\n`, 's3.storage_class_manifest'],
    ['a manifest storage class that needs a thaw', `${MINIMAL}storage_class_manifest = "DEEP_ARCHIVE"\n`, 's3.storage_class_manifest'],
    ['a manifest storage class that needs a thaw (Glacier)', `${MINIMAL}storage_class_manifest = "GLACIER"\n`, 's3.storage_class_manifest'],
    ['a zero concurrency', `${MINIMAL}concurrency = 0\n`, 's3.concurrency'],
    ['a huge concurrency', `${MINIMAL}concurrency = 1000\n`, 's3.concurrency'],
    ['a string where a boolean belongs', `${MINIMAL}spool_enabled = "yes"\n`, 's3.spool_enabled'],
    ['an unknown SSE mode', `${MINIMAL}sse = "kms"\n`, 's3.sse'],
    ['a KMS key without sse = "aws:kms"', `${MINIMAL}sse_kms_key_id = "alias/backups"\n`, 's3.sse_kms_key_id'],
    ['an empty KMS key', `${MINIMAL}sse = "aws:kms"\nsse_kms_key_id = ""\n`, 's3.sse_kms_key_id'],
    ['an unknown Object Lock mode', `${MINIMAL}object_lock = { mode = "legal-hold", days = 30 }\n`, 's3.object_lock.mode'],
    ['an Object Lock of zero days', `${MINIMAL}object_lock = { mode = "governance", days = 0 }\n`, 's3.object_lock.days'],
    ['an Object Lock without days', `${MINIMAL}object_lock = { mode = "compliance" }\n`, 's3.object_lock.days'],
    ['an unknown Object Lock key', `${MINIMAL}object_lock = { mode = "compliance", days = 1, years = 1 }\n`, 's3.object_lock.years'],
    ['an Object Lock that is not a table', `${MINIMAL}object_lock = "compliance"\n`, 's3.object_lock'],
    ['an unknown checksum mode', `${MINIMAL}checksum_mode = "always"\n`, 's3.checksum_mode'],
    ['a negative stale upload age', `${MINIMAL}stale_upload_age_hours = -1\n`, 's3.stale_upload_age_hours'],
    ['a zero request timeout', `${MINIMAL}request_timeout_seconds = 0\n`, 's3.request_timeout_seconds'],
    ['a negative connect timeout', `${MINIMAL}connect_timeout_seconds = -5\n`, 's3.connect_timeout_seconds'],
    ['a relative metrics path', `[global]\nmetrics_path = "m.json"\n${MINIMAL}`, 'global.metrics_path'],
    ['a zero progress interval', `[global]\nprogress_interval_seconds = 0\n${MINIMAL}`, 'global.progress_interval_seconds'],
    ['zero retained generations', `${MINIMAL}retain_generations = 0\n`, 's3.retain_generations'],
    ['a zero prune grace period', `${MINIMAL}prune_grace_hours = 0\n`, 's3.prune_grace_hours'],
    ['a bad log level', `[global]\nlog_level = "loud"\n${MINIMAL}`, 'global.log_level'],
    ['a zero spool size', `[global]\nspool_size_bytes = 0\n${MINIMAL}`, 'global.spool_size_bytes'],
    ['a relative lock path', `[global]\nlock_path = "lock"\n${MINIMAL}`, 'global.lock_path'],
    ['zero full cadence', `[schedule]\nfull_every_days = 0\n${MINIMAL}`, 'schedule.full_every_days'],
    ['negative incremental cadence', `[schedule]\nincremental_every_days = -1\n${MINIMAL}`, 'schedule.incremental_every_days'],
    ['run_at 24:00', `[schedule]\nrun_at = "24:00"\n${MINIMAL}`, 'schedule.run_at'],
    ['run_at without a leading zero', `[schedule]\nrun_at = "2:00"\n${MINIMAL}`, 'schedule.run_at'],
    ['zero snapshots retained', MINIMAL.replace('[subvolumes]', 'retain = 0\n[subvolumes]'), 'snapshots.retain'],
    ['a bad verify mode', `${MINIMAL}[restore]\nverify_mode = "quick"\n`, 'restore.verify_mode'],
    ['a bad restore tier', `${MINIMAL}[restore]\nrestore_tier = "Fast"\n`, 'restore.restore_tier'],
    ['a zero restore timeout', `${MINIMAL}[restore]\nrestore_timeout_seconds = 0\n`, 'restore.restore_timeout_seconds'],
    ['a zero sample size', `${MINIMAL}[restore]\nsample_max_files = 0\n`, 'restore.sample_max_files'],
    ['an unknown key', `${MINIMAL}colour = "blue"\n`, 's3.colour'],
    ['an unknown section', `${MINIMAL}[extra]\nx = 1\n`, 'extra'],
    ['a missing bucket', MINIMAL.replace('bucket = "my-backups"', ''), 's3.bucket'],
    ['a missing [subvolumes] section', MINIMAL.replace('[subvolumes]\npaths = ["/srv/data", "/srv/home"]', ''), 'subvolumes'],
    ['an infinite cadence (TOML inf)', `[schedule]\nfull_every_days = inf\n${MINIMAL}`, 'schedule.full_every_days'],
    ['a negative infinite cadence, once', `[schedule]\nincremental_every_days = -inf\n${MINIMAL}`, 'schedule.incremental_every_days'],
    ['an infinite stale upload age', `${MINIMAL}stale_upload_age_hours = inf\n`, 's3.stale_upload_age_hours'],
    ['the root as a subvolume (no name)', replaceIn('"/srv/home"', '"/"'), 'subvolumes.paths.1'],
    ['a base dir that is a subvolume spelled differently', replaceIn('"/srv/.snapshots"', '"/srv//data/"'), 'snapshots.base_dir'],
    ['two subvolumes with one name after normalization', replaceIn('"/srv/home"', '"/srv/home/../data"'), 'subvolumes.paths'],
    ['an endpoint that is not http(s)', `${MINIMAL}endpoint = "ftp://127.0.0.1"\n`, 's3.endpoint'],
  ])('rejects %s, naming the key', (_case, text, key) => {
    expect(keys(text)).toEqual([key]);
  });

  it('never repeats the user info of a bad endpoint', () => {
    // `user:pass@host` parses as a URL of scheme `user:`; output redaction would not recognize it.
    const endpoints = ['user:s3cretvalue@host', 'http://user:s3cretvalue@bad host', 's3cretvalue@host', 'ftp://user:s3cretvalue@host'];
    for (const endpoint of endpoints) {
      const lines = problems(`${MINIMAL}endpoint = "${endpoint}"\n`);
      expect(lines).toEqual([expect.stringMatching(/^s3\.endpoint: must/)]);
      expect(lines.join('\n')).not.toContain('s3cretvalue');
    }
  });

  it('accepts http and https endpoints with a port, a path or user info (which the SDK ignores and output redacts)', () => {
    expect(problems(`${MINIMAL}endpoint = "https://s3.example.com:8443/base"\n`)).toEqual([]);
    expect(problems(`${MINIMAL}endpoint = "http://user:pass@127.0.0.1:7480"\n`)).toEqual([]);
  });

  it('normalizes absolute paths to one spelling', () => {
    const config = parseConfig(MINIMAL.replace('"/srv/.snapshots"', '"/srv//.snapshots/./"').replace('"/srv/home"', '"/srv/x/../home/"'));
    expect(config.snapshots.base_dir).toBe('/srv/.snapshots');
    expect(config.subvolumes.paths).toEqual(['/srv/data', '/srv/home']);
  });

  it('accepts the S3 limits exactly at their bounds', () => {
    const text = `${MINIMAL}part_size_bytes = 5242880\nchunk_size_bytes = 52428800000\n`;
    expect(problems(text)).toEqual([]);
  });

  it('reports every problem at once, each with its key', () => {
    const text = `
[global]
log_level = "loud"
[schedule]
run_at = "25:00"
[snapshots]
base_dir = "relative"
[subvolumes]
paths = ["/srv/data"]
[s3]
region = "eu-central-1"
prefix = "host1"
part_size_bytes = 1024
colour = "blue"
`;
    expect(problems(text)).toEqual([
      'global.log_level: must be one of error, warn, info, debug, got "loud"',
      'schedule.run_at: must be 24-hour HH:MM, got "25:00"',
      'snapshots.base_dir: must be an absolute path (after ~ expansion), got "relative"',
      's3.bucket: is required',
      's3.part_size_bytes: must be at least 5 MiB (5242880), got 1024',
      's3.colour: unknown key',
    ]);
  });

  it('describes a wrong type with what was expected', () => {
    expect(problems(`${MINIMAL}concurrency = "four"\n`)).toEqual(['s3.concurrency: must be number, got "four"']);
  });

  it('reports a TOML syntax error with its line', () => {
    expect(problems('[s3\nbucket = 1')).toEqual([expect.stringMatching(/^\(toml\): syntax error at line 1, column \d+/)]);
  });

  it('throws a ConfigError with the usage exit code and every issue in the message', () => {
    expect.assertions(3);
    try {
      parseConfig(MINIMAL.replace('"my-backups"', '"X"'), { source: '/etc/x.toml' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(ExitCode.Usage);
      expect((error as ConfigError).message).toMatch(
        /^invalid configuration in \/etc\/x\.toml \(1 problem\):\n {2}s3\.bucket: must be a valid bucket name/,
      );
    }
  });
});

describe('environment overrides (BTRFS_TO_S3__<SECTION>__<KEY>)', () => {
  it('overrides strings, numbers, booleans and lists with the key type', () => {
    const config = parseConfig(MINIMAL, {
      env: {
        BTRFS_TO_S3__S3__BUCKET: 'other-bucket',
        BTRFS_TO_S3__S3__CONCURRENCY: '8',
        BTRFS_TO_S3__S3__SPOOL_ENABLED: 'true',
        BTRFS_TO_S3__S3__PATH_STYLE: 'false',
        BTRFS_TO_S3__SUBVOLUMES__PATHS: '/a/x, /b/y',
        BTRFS_TO_S3__SCHEDULE__FULL_EVERY_DAYS: '90',
        BTRFS_TO_S3__RESTORE__VERIFY_MODE: 'none',
        UNRELATED: 'ignored',
      },
    });
    expect(config.s3.bucket).toBe('other-bucket');
    expect(config.s3.concurrency).toBe(8);
    expect(config.s3.spool_enabled).toBe(true);
    expect(config.s3.path_style).toBe(false);
    expect(config.subvolumes.paths).toEqual(['/a/x', '/b/y']);
    expect(config.schedule.full_every_days).toBe(90);
    expect(config.restore.verify_mode).toBe('none');
  });

  it('takes a list as a JSON array, and names the variable when an item is invalid', () => {
    const [a, b] = [`age1${'q'.repeat(58)}`, `age1${'p'.repeat(58)}`];
    const config = parseConfig(MINIMAL, { env: { BTRFS_TO_S3__ENCRYPTION__RECIPIENTS: JSON.stringify([a, b]) } });
    expect(config.encryption.recipients).toEqual([a, b]);
    expect(parseConfig(MINIMAL, { env: { BTRFS_TO_S3__ENCRYPTION__RECIPIENTS: `${a},${b}` } }).encryption.recipients).toEqual([a, b]);
    expect(problems(MINIMAL, { BTRFS_TO_S3__ENCRYPTION__RECIPIENTS: '["age1short"]' })).toEqual([
      'encryption.recipients.0: must be an age X25519 recipient (age1 and 58 more characters; `btrfs-to-s3 key generate` makes one), got "age1short" (set by environment variable BTRFS_TO_S3__ENCRYPTION__RECIPIENTS)',
    ]);
  });

  it('takes a table as a JSON object', () => {
    const config = parseConfig(MINIMAL, { env: { BTRFS_TO_S3__S3__OBJECT_LOCK: '{"mode":"governance","days":30}' } });
    expect(config.s3.object_lock).toEqual({ mode: 'governance', days: 30 });
    expect(problems(MINIMAL, { BTRFS_TO_S3__S3__OBJECT_LOCK: 'governance' })[0]).toMatch(
      /^s3\.object_lock: .*\(set by environment variable BTRFS_TO_S3__S3__OBJECT_LOCK\)$/,
    );
  });

  it('fills a required key that the file lacks', () => {
    const config = parseConfig(MINIMAL.replace('bucket = "my-backups"', ''), { env: { BTRFS_TO_S3__S3__BUCKET: 'from-env' } });
    expect(config.s3.bucket).toBe('from-env');
  });

  it('creates a section that the file lacks', () => {
    expect(parseConfig(MINIMAL, { env: { BTRFS_TO_S3__GLOBAL__LOG_LEVEL: 'debug' } }).global.log_level).toBe('debug');
  });

  it('names the variable when its value is invalid', () => {
    expect(problems(MINIMAL, { BTRFS_TO_S3__S3__CONCURRENCY: 'many', BTRFS_TO_S3__S3__SPOOL_ENABLED: 'yes' })).toEqual([
      's3.concurrency: must be number, got "many" (set by environment variable BTRFS_TO_S3__S3__CONCURRENCY)',
      's3.spool_enabled: must be boolean, got "yes" (set by environment variable BTRFS_TO_S3__S3__SPOOL_ENABLED)',
    ]);
  });

  it('rejects variables with the prefix that name no key, section or shape', () => {
    expect(problems(MINIMAL, { BTRFS_TO_S3__S3__BUKET: 'x', BTRFS_TO_S3__NOPE__KEY: 'x', BTRFS_TO_S3__S3__BUCKET__EXTRA: 'x' })).toEqual([
      's3.buket: unknown key (set by environment variable BTRFS_TO_S3__S3__BUKET)',
      'nope.key: unknown key (set by environment variable BTRFS_TO_S3__NOPE__KEY)',
      's3.bucket.extra: unknown key (set by environment variable BTRFS_TO_S3__S3__BUCKET__EXTRA)',
    ]);
  });

  it('names the variable itself when it names no section and key', () => {
    expect(problems(MINIMAL, { BTRFS_TO_S3__S3: 'x', BTRFS_TO_S3__: 'x' })).toEqual([
      'BTRFS_TO_S3__S3: unknown key (set by environment variable BTRFS_TO_S3__S3); the rule is BTRFS_TO_S3__<SECTION>__<KEY>',
      'BTRFS_TO_S3__: unknown key (set by environment variable BTRFS_TO_S3__); the rule is BTRFS_TO_S3__<SECTION>__<KEY>',
    ]);
  });

  it('validates a document object directly', () => {
    const result = validateConfig({}, {});
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.key)).toEqual(['snapshots', 'subvolumes', 's3']);
  });
});

describe('loadConfig', () => {
  it('reads and validates a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    await writeFile(join(dir, 'config.toml'), MINIMAL);
    expect((await loadConfig(join(dir, 'config.toml'))).s3.bucket).toBe('my-backups');
  });

  it('names --config and the path when the file cannot be read', async () => {
    await expect(loadConfig('/nonexistent/config.toml')).rejects.toThrow('--config: cannot read /nonexistent/config.toml: ENOENT');
  });
});

describe('loadRemoteConfig (restore, list and verify on a host with nothing to back up)', () => {
  const S3_ONLY = '[s3]\nbucket = "my-backups"\nregion = "eu-central-1"\nprefix = "host1"\n';
  const file = async (text: string) => {
    const path = join(await mkdtemp(join(tmpdir(), 'config-')), 'config.toml');
    await writeFile(path, text);
    return path;
  };
  const issuesOf = async (load: Promise<unknown>) => {
    const error: unknown = await load.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
    return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
  };

  it('takes a file holding only [s3], with no [snapshots] or [subvolumes]', async () => {
    const config = await loadRemoteConfig(await file(S3_ONLY));
    expect(config.s3).toMatchObject({
      bucket: 'my-backups',
      region: 'eu-central-1',
      prefix: 'host1',
      storage_class_chunks: 'DEEP_ARCHIVE',
    });
    expect(config.subvolumes).toBeUndefined();
    expect(config.restore.verify_mode).toBe('full');
  });

  it('takes a full backup config too, and keeps its subvolumes', async () => {
    expect((await loadRemoteConfig(await file(MINIMAL))).subvolumes?.paths).toEqual(['/srv/data', '/srv/home']);
  });

  it('needs no file: the location comes from flags, which win over the environment', async () => {
    const env = { BTRFS_TO_S3__S3__BUCKET: 'from-env', BTRFS_TO_S3__S3__REGION: 'eu-west-1' };
    const config = await loadRemoteConfig(undefined, env, {
      bucket: 'from-flag',
      prefix: 'host1',
      endpoint: 'http://127.0.0.1:7480',
      path_style: true,
    });
    expect(config.s3).toMatchObject({
      bucket: 'from-flag',
      region: 'eu-west-1',
      prefix: 'host1',
      endpoint: 'http://127.0.0.1:7480',
      path_style: true,
    });
  });

  it('says where each missing location key can come from, and names a bad flag value as a flag', async () => {
    expect(await issuesOf(loadRemoteConfig(undefined, {}, { bucket: 'B!' }))).toEqual([
      's3.bucket: must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens), got "B!" (set by flag --bucket)',
      "s3.region: is required: set it in the config's [s3] section, with --region, or with BTRFS_TO_S3__S3__REGION",
      "s3.prefix: is required: set it in the config's [s3] section, with --prefix, or with BTRFS_TO_S3__S3__PREFIX",
    ]);
  });

  it('still checks the sections that are present, and still names --config for a file it cannot read', async () => {
    expect(await issuesOf(loadRemoteConfig(await file(`${S3_ONLY}[subvolumes]\npaths = ["relative"]\n`)))).toEqual([
      'subvolumes.paths.0: must be an absolute path (after ~ expansion), got "relative"',
    ]);
    await expect(loadRemoteConfig('/nonexistent/config.toml')).rejects.toThrow('--config: cannot read /nonexistent/config.toml: ENOENT');
  });
});
