import { ExitCode } from '@org/btrfs-s3-core';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cli, writeConfig } from './helpers';
const FAKE_SECRET = 'fakeSecretKeyValue/0123456789abcdefEXAMPLE';

const VALID = `
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data", "/srv/home"]
[s3]
bucket = "my-backups"
region = "eu-central-1"
prefix = "host1"
endpoint = "https://user:hunter2@s3.example.com"
`;

/** Five mistakes in five keys. */
const FIVE_MISTAKES = `
[schedule]
run_at = "7pm"
[snapshots]
base_dir = "snapshots"
[subvolumes]
paths = ["/srv/data"]
[s3]
region = "eu-central-1"
prefix = "host1"
storage_class_chunks = "FROZEN"
concurrency = 0
`;

describe('btrfs-to-s3 CLI', () => {
  it('lists its commands in --help', () => {
    const { code, stdout } = cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('$ btrfs-to-s3 [COMMAND]');
    expect(stdout).toMatch(/config\s+Check and show the configuration/);
    const topic = cli(['config', '--help']).stdout;
    expect(topic).toMatch(/config validate +Check the config file/);
    expect(topic).toMatch(/config show +Print the effective configuration/);
  });

  it('config validate exits 0 on a valid config', () => {
    const { code, stdout } = cli(['config', 'validate', '--config', writeConfig(VALID)]);
    expect(code).toBe(ExitCode.Success);
    expect(stdout).toMatch(/valid \(2 subvolumes: data, home\)/);
  });

  it('config validate prints one error per mistake, naming each key, and exits with the config-error code', () => {
    const { code, stdout, stderr } = cli(['config', 'validate', '--config', writeConfig(FIVE_MISTAKES)]);
    expect(code).toBe(ExitCode.Usage);
    expect(stdout).toBe('');
    const named = stderr
      .split('\n')
      .filter((line) => /^ {2}[a-z0-9_.]+: /.test(line))
      .map((line) => line.trim().split(':')[0]);
    expect(named).toEqual(['schedule.run_at', 'snapshots.base_dir', 's3.bucket', 's3.storage_class_chunks', 's3.concurrency']);
    expect(stderr).toContain('(5 problems)');
  });

  it('config validate --json reports the issues as data', () => {
    const { code, stdout } = cli(['config', 'validate', '--json', '--config', writeConfig(FIVE_MISTAKES)]);
    expect(code).toBe(ExitCode.Usage);
    const { error } = JSON.parse(stdout);
    expect(error).toMatchObject({ name: 'ConfigError', exitCode: ExitCode.Usage });
    expect(error.issues).toHaveLength(5);
    expect(error.issues[0]).toEqual({ key: 'schedule.run_at', message: 'must be 24-hour HH:MM, got "7pm"' });
  });

  it('names the config flag when the file is missing', () => {
    const { code, stderr } = cli(['config', 'validate', '--config', '/nonexistent/config.toml']);
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('--config: cannot read /nonexistent/config.toml: ENOENT');
  });

  it('refuses a --max-upload-rate it cannot read before anything else, naming the flag', () => {
    const config = writeConfig(VALID);
    const { code, stderr } = cli(['backup', '--config', config, '--max-upload-rate', '50M']);
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('s3.max_upload_rate: "50M" is not a rate');
    expect(stderr).toContain('(set by flag --max-upload-rate)');
  });

  it('config show prints the effective config with defaults and env overrides, secrets redacted', () => {
    const env = { AWS_SECRET_ACCESS_KEY: FAKE_SECRET, BTRFS_TO_S3__S3__CONCURRENCY: '6' };
    const { code, stdout, stderr } = cli(['config', 'show', '--config', writeConfig(VALID)], env);
    expect(code).toBe(ExitCode.Success);
    expect(stdout).toContain('concurrency = 6');
    expect(stdout).toContain('storage_class_chunks = "DEEP_ARCHIVE"');
    expect(stdout).toContain('endpoint = "https://[REDACTED]@s3.example.com"');
    expect(stdout + stderr).not.toContain('hunter2');
    expect(stdout + stderr).not.toContain(FAKE_SECRET);
    const json = JSON.parse(cli(['config', 'show', '--json', '--config', writeConfig(VALID)], env).stdout);
    expect(json.s3).toMatchObject({ concurrency: 6, endpoint: 'https://[REDACTED]@s3.example.com', part_size_bytes: 134217728 });
  });

  it('keeps secrets out of error output', () => {
    const config = writeConfig(VALID.replace('"my-backups"', `"${FAKE_SECRET}"`));
    const { code, stdout, stderr } = cli(['config', 'validate', '--config', config], { AWS_SECRET_ACCESS_KEY: FAKE_SECRET });
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('s3.bucket: must be a valid bucket name');
    expect(stdout + stderr).not.toContain(FAKE_SECRET);
  });

  it('prefixes journald priorities when stderr is the stream JOURNAL_STREAM names, and only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    try {
      // stderr is a file here, as it is the journal's socket under systemd: its device and inode are what systemd would set.
      const validate = (name: string, journal: (own: { dev: number; ino: number }) => string) => {
        const path = join(dir, name);
        const fd = openSync(path, 'w');
        try {
          spawnSync(process.execPath, [BIN, 'config', 'validate', '--config', '/nonexistent.toml'], {
            stdio: ['ignore', 'ignore', fd],
            env: { PATH: process.env.PATH, JOURNAL_STREAM: journal(fstatSync(fd)) },
          });
        } finally {
          closeSync(fd);
        }
        return readFileSync(path, 'utf8');
      };
      expect(validate('own', ({ dev, ino }) => `${dev}:${ino}`)).toMatch(/^<3>invalid configuration/);
      // A command the unit runs with stderr redirected inherits JOURNAL_STREAM; its lines stay plain.
      expect(validate('other', ({ dev, ino }) => `${dev}:${ino + 1}`)).toMatch(/^\d\d:\d\d:\d\d error invalid configuration/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes JSON log lines with --log-format json', () => {
    const { stderr } = cli(['config', 'validate', '--log-format', 'json', '--config', '/nonexistent.toml']);
    expect(JSON.parse(stderr.trim())).toMatchObject({ level: 'error', message: expect.stringContaining('--config: cannot read') });
  });

  it('suggests the nearest commands for a mistyped one, with the usage code', () => {
    const mistyped = cli(['bakup']);
    expect(mistyped.code).toBe(ExitCode.Usage);
    expect(mistyped.stderr).toContain('command bakup not found; did you mean `backup`? See --help');
    expect(cli(['confg', 'show']).stderr).toContain('command confg show not found; did you mean `config show`?');
    const unrelated = cli(['xyzzy']);
    expect(unrelated.code).toBe(ExitCode.Usage);
    expect(unrelated.stderr).toContain('command xyzzy not found; see --help');
  });

  it('exits with the usage code on unknown flags and commands', () => {
    expect(cli(['config', 'validate', '--bogus']).code).toBe(ExitCode.Usage);
    expect(cli(['config', 'validate', '--log-level', 'loud']).code).toBe(ExitCode.Usage);
    expect(cli(['no-such-command']).code).toBe(ExitCode.Usage);
  });
});
