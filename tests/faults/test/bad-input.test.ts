import { ExitCode } from '@org/btrfs-s3-core';
import { type CliResult, type Env, MiB } from '@org/testenv';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliAsync } from './cli';
import { type FakeS3Endpoint, startFakeS3Endpoint } from './fake-s3-endpoint';

/**
 * Fault case 8: bad input. Every malformed config, environment override and command
 * line is refused with an error naming the key or flag and the usage exit code, and
 * nothing happens: no snapshot, no state, lock or metrics file, no S3 request.
 *
 * Each case runs the real executable with a config whose every path lies in a fresh
 * temp dir and whose endpoint is a local server that counts requests. Nothing here
 * needs Btrfs: validation must finish before anything touches disk or network.
 */

/** A TOML value written verbatim (a TOML local time, which a JS value cannot express). */
class Raw {
  constructor(readonly text: string) {}
}

type Section = Record<string, unknown>;
/** Changes to the valid config: a value replaces a key, `undefined` removes a key or a whole section. */
type Patch = Record<string, Section | undefined>;

/** Relative paths in the table all start here; the CLI runs in this process's cwd, so that is where they would land. */
const RELATIVE = 'bad-input-relative';

interface Paths {
  readonly root: string;
  readonly home: string;
  readonly config: string;
}

function validConfig(paths: Paths, endpoint: string): Record<string, Section> {
  const { root } = paths;
  return {
    global: {
      state_path: join(root, 'state', 'state.json'),
      lock_path: join(root, 'state', 'run.lock'),
      metrics_path: join(root, 'state', 'metrics.json'),
      prometheus_textfile: join(root, 'state', 'metrics.prom'),
      spool_dir: join(root, 'spool'),
    },
    snapshots: { base_dir: join(root, 'snapshots') },
    subvolumes: { paths: [join(root, 'data'), join(root, 'home-subvolume')] },
    s3: {
      bucket: 'fault-bucket',
      region: 'us-east-1',
      prefix: 'bad-input',
      endpoint,
      path_style: true,
      checksum_mode: 'when_required',
      part_size_bytes: 5 * MiB,
      chunk_size_bytes: 15 * MiB,
    },
  };
}

function tomlValue(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : '-inf';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function toToml(document: Record<string, Section | undefined>): string {
  return Object.entries(document)
    .flatMap(([section, entries]) =>
      entries === undefined
        ? []
        : [
            `[${section}]`,
            ...Object.entries(entries)
              .filter(([, value]) => value !== undefined)
              .map(([key, value]) => `${key} = ${tomlValue(value)}`),
            '',
          ],
    )
    .join('\n');
}

function applyPatch(document: Record<string, Section>, patch: Patch): Record<string, Section | undefined> {
  const out: Record<string, Section | undefined> = { ...document };
  for (const [section, entries] of Object.entries(patch))
    out[section] = entries === undefined ? undefined : { ...document[section], ...entries };
  return out;
}

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** oclif wraps long error lines and prefixes them with ` ›`; compare messages as one line of single spaces. */
const oneLine = (text: string) => text.replace(/\n\s*›?\s*/g, ' ').replace(/\s+/g, ' ');

interface BadInput {
  /** What the case proves: which input is refused. */
  readonly name: string;
  /** The command line, without `--config` (added unless present). */
  readonly argv: (paths: Paths) => string[];
  readonly patch?: Patch | ((paths: Paths) => Patch);
  /** Edits the written TOML text, for what a patch cannot express (a syntax error). */
  readonly edit?: (toml: string) => string;
  readonly env?: Env | ((paths: Paths) => Env);
  /** Makes the world the case needs before the run (kept out of the side-effect check). */
  readonly prepare?: (paths: Paths) => void;
  /** Text the error must contain: the key or flag and what is wrong with it. */
  readonly error: string | ((paths: Paths) => string);
  /** With `--json`: every issue key the error must list, exactly. */
  readonly issueKeys?: readonly string[];
}

const backup =
  (...extra: string[]) =>
  () => ['backup', ...extra];
const plan =
  (...extra: string[]) =>
  () => ['plan', ...extra];
const validate =
  (...extra: string[]) =>
  () => ['config', 'validate', ...extra];
const restore =
  (...extra: string[]) =>
  ({ root }: Paths) => ['restore', '--subvolume', 'data', '--target', join(root, 'restored'), ...extra];

const configCases: BadInput[] = [
  // Types.
  {
    name: 'a string where s3.concurrency wants a number',
    argv: backup(),
    patch: { s3: { concurrency: '4' } },
    error: 's3.concurrency: must be number, got "4"',
  },
  {
    name: 'a single string where subvolumes.paths wants a list',
    argv: plan(),
    patch: ({ root }) => ({ subvolumes: { paths: join(root, 'data') } }),
    error: 'subvolumes.paths: must be Array',
  },
  {
    name: 'a TOML time where schedule.run_at wants a string',
    argv: validate(),
    patch: { schedule: { run_at: new Raw('02:00:00') } },
    error: 'schedule.run_at: must be string',
  },
  // Ranges.
  {
    name: 'a negative schedule.full_every_days',
    argv: backup(),
    patch: { schedule: { full_every_days: -1 } },
    error: 'schedule.full_every_days: must be greater than 0, got -1',
  },
  {
    name: 'an infinite schedule.incremental_every_days (TOML inf)',
    argv: backup(),
    patch: { schedule: { incremental_every_days: Infinity } },
    error: 'schedule.incremental_every_days: must be a finite number greater than 0',
  },
  // Missing required keys.
  {
    name: 'a missing s3.bucket (with --json)',
    argv: backup('--json'),
    patch: { s3: { bucket: undefined } },
    error: 's3.bucket: is required',
    issueKeys: ['s3.bucket'],
  },
  // backup needs its sections; restore, list and verify do not (a new host has only [s3]: apps/cli/test/integration/new-host.test.ts).
  { name: 'a missing [snapshots] section for backup', argv: backup(), patch: { snapshots: undefined }, error: 'snapshots: is required' },
  {
    name: 'a restore whose config lacks s3.region (a file holding [s3] only)',
    argv: restore(),
    patch: { s3: { region: undefined } },
    error: "s3.region: is required: set it in the config's [s3] section, with --region, or with BTRFS_TO_S3__S3__REGION",
  },
  {
    name: 'an empty subvolumes.paths',
    argv: backup(),
    patch: { subvolumes: { paths: [] } },
    error: 'subvolumes.paths: must list at least one subvolume',
  },
  // Unknown keys.
  { name: 'a misspelt key (s3.buket)', argv: backup(), patch: { s3: { buket: 'fault-bucket' } }, error: 's3.buket: unknown key' },
  { name: 'an unknown section', argv: plan(), patch: { extra: { retain: 1 } }, error: 'extra: unknown key' },
  // Paths.
  {
    name: 'a relative snapshots.base_dir',
    argv: backup('--once'),
    patch: { snapshots: { base_dir: `${RELATIVE}/snapshots` } },
    error: `snapshots.base_dir: must be an absolute path (after ~ expansion), got "${RELATIVE}/snapshots"`,
  },
  {
    name: 'a relative global.state_path',
    argv: plan(),
    patch: { global: { state_path: `${RELATIVE}/state.json` } },
    error: 'global.state_path: must be an absolute path',
  },
  {
    name: 'a global.lock_path with ~user (only ~ and ~/ expand)',
    argv: backup(),
    patch: { global: { lock_path: '~root/run.lock' } },
    error: 'global.lock_path: must be an absolute path',
  },
  {
    name: 'the root / as a subvolume (it has no name)',
    argv: backup(),
    patch: { subvolumes: { paths: ['/'] } },
    error: 'subvolumes.paths.0: must end in a path component',
  },
  {
    name: 'snapshots.base_dir that is a subvolume, spelled with a trailing slash',
    argv: backup(),
    patch: ({ root }) => ({ snapshots: { base_dir: `${join(root, 'data')}/` } }),
    error: 'snapshots.base_dir: must not be one of subvolumes.paths',
  },
  // Schedule.
  {
    name: 'schedule.run_at 24:00',
    argv: backup(),
    patch: { schedule: { run_at: '24:00' } },
    error: 'schedule.run_at: must be 24-hour HH:MM, got "24:00"',
  },
  // S3 limits.
  {
    name: 's3.part_size_bytes one byte below 5 MiB',
    argv: backup(),
    patch: { s3: { part_size_bytes: 5 * MiB - 1 } },
    error: 's3.part_size_bytes: must be at least 5 MiB (5242880), got 5242879',
  },
  {
    name: 'a chunk needing 10,001 parts',
    argv: backup(),
    patch: { s3: { part_size_bytes: 5 * MiB, chunk_size_bytes: 10_001 * 5 * MiB } },
    error: 's3.chunk_size_bytes: needs more than 10000 parts of s3.part_size_bytes per chunk',
  },
  {
    name: 'a chunk above s3.max_object_size_bytes',
    argv: backup(),
    patch: { s3: { max_object_size_bytes: 10 * MiB } },
    error: 's3.chunk_size_bytes: must not exceed s3.max_object_size_bytes',
  },
  {
    name: 'an unknown s3.storage_class_chunks',
    argv: backup(),
    patch: { s3: { storage_class_chunks: 'GLACIER_DEEP' } },
    error: 's3.storage_class_chunks: must be one of STANDARD, STANDARD_IA',
  },
  {
    name: 'an s3.endpoint that is not a URL',
    argv: backup(),
    patch: { s3: { endpoint: 'localhost 7480' } },
    error: 's3.endpoint: must be a URL',
  },
  // Restore.
  {
    name: 'a bad restore.verify_mode',
    argv: restore(),
    patch: { restore: { verify_mode: 'quick' } },
    error: 'restore.verify_mode: must be one of full, sample, none, got "quick"',
  },
  // The file itself.
  { name: 'a TOML syntax error', argv: backup(), edit: (toml) => toml.replace('[s3]', '[s3'), error: '(toml): syntax error at line' },
  {
    name: 'several problems at once, each named (with --json)',
    argv: backup('--json'),
    patch: { schedule: { run_at: '7:30' }, s3: { region: '', colour: 'blue', part_size_bytes: MiB } },
    error: 'invalid configuration',
    issueKeys: ['schedule.run_at', 's3.region', 's3.part_size_bytes', 's3.colour'],
  },
];

const envCases: BadInput[] = [
  {
    name: 'BTRFS_TO_S3__S3__CONCURRENCY that is not a number',
    argv: backup(),
    env: { BTRFS_TO_S3__S3__CONCURRENCY: 'many' },
    error: 's3.concurrency: must be number, got "many" (set by environment variable BTRFS_TO_S3__S3__CONCURRENCY)',
  },
  {
    name: 'BTRFS_TO_S3__S3__BUKET naming no key',
    argv: backup(),
    env: { BTRFS_TO_S3__S3__BUKET: 'x' },
    error: 's3.buket: unknown key (set by environment variable BTRFS_TO_S3__S3__BUKET)',
  },
  {
    name: 'BTRFS_TO_S3__NOPE__KEY naming no section',
    argv: restore(),
    env: { BTRFS_TO_S3__NOPE__KEY: 'x' },
    error: 'nope.key: unknown key (set by environment variable BTRFS_TO_S3__NOPE__KEY)',
  },
  { name: 'BTRFS_TO_S3__S3 without a key', argv: backup(), env: { BTRFS_TO_S3__S3: 'x' }, error: 'BTRFS_TO_S3__S3: unknown key' },
  {
    name: 'BTRFS_TO_S3__S3__PART_SIZE_BYTES below 5 MiB',
    argv: backup(),
    env: { BTRFS_TO_S3__S3__PART_SIZE_BYTES: String(MiB) },
    error:
      's3.part_size_bytes: must be at least 5 MiB (5242880), got 1048576 (set by environment variable BTRFS_TO_S3__S3__PART_SIZE_BYTES)',
  },
  {
    name: 'BTRFS_TO_S3__S3__CHUNK_SIZE_BYTES that needs more than 10,000 parts of the file part size',
    argv: backup(),
    env: { BTRFS_TO_S3__S3__CHUNK_SIZE_BYTES: String(10_001 * 5 * MiB) },
    error: 's3.chunk_size_bytes: needs more than 10000 parts',
  },
  {
    name: 'BTRFS_TO_S3__SUBVOLUMES__PATHS with a relative path',
    argv: backup(),
    env: { BTRFS_TO_S3__SUBVOLUMES__PATHS: `/srv/data,${RELATIVE}/home` },
    error: 'subvolumes.paths.1: must be an absolute path',
  },
];

const cliCases: BadInput[] = [
  { name: 'an unknown flag', argv: backup('--bogus'), error: 'Nonexistent flag: --bogus' },
  {
    name: 'a bad --log-level value',
    argv: backup('--log-level', 'loud'),
    error: 'Expected --log-level=loud to be one of: error, warn, info, debug',
  },
  {
    name: 'an unknown --subvolume for backup',
    argv: backup('--once', '--subvolume', 'nope'),
    error: '--subvolume: unknown subvolume "nope"; configured: data, home-subvolume',
  },
  { name: 'an unknown --subvolume for plan', argv: plan('--subvolume', 'nope'), error: '--subvolume: unknown subvolume "nope"' },
  {
    name: 'an unknown --subvolume for plan when state records a published backup (no HEAD of its manifest first)',
    argv: plan('--subvolume', 'nope'),
    prepare: ({ root }) => {
      mkdirSync(join(root, 'state'));
      const at = '2026-11-01T02:00:00.000Z';
      const data = {
        last_snapshot: 'data__20261101T020000Z__full',
        last_manifest: 'bad-input/subvol/data/full/20261101T020000Z/manifest.json',
        last_kind: 'full',
        last_backup_at: at,
        last_full_at: at,
      };
      writeFileSync(join(root, 'state', 'state.json'), JSON.stringify({ version: 1, last_run_at: at, subvolumes: { data } }));
    },
    error: '--subvolume: unknown subvolume "nope"',
  },
  {
    name: 'a restore --subvolume that is a path, not a name',
    argv: () => ['restore', '--subvolume', '../x', '--target', '/restored'],
    error: '--subvolume: "../x" is not a subvolume name',
  },
  {
    name: 'an empty restore --subvolume',
    argv: () => ['restore', '--subvolume', '', '--target', '/restored'],
    error: '--subvolume: "" is not a subvolume name',
  },
  {
    name: '--no-s3 together with --dry-run',
    argv: backup('--no-s3', '--dry-run'),
    error: '--dry-run=true cannot also be provided when using --no-s3',
  },
  { name: 'an unknown command', argv: () => ['backups'], error: 'command backups not found' },
  {
    name: 'restore without --target (and no restore.target_base_dir)',
    argv: () => ['restore', '--subvolume', 'data'],
    error: '--target is required when restore.target_base_dir is not set',
  },
  {
    name: 'restore without --subvolume',
    argv: ({ root }) => ['restore', '--target', join(root, 'restored')],
    error: 'Missing required flag subvolume',
  },
  {
    name: 'a bad restore --verify value',
    argv: restore('--verify', 'most'),
    error: 'Expected --verify=most to be one of: full, sample, none',
  },
  {
    name: 'a zero restore --restore-timeout',
    argv: restore('--restore-timeout', '0'),
    error: 'Expected an integer greater than or equal to 1 but received: 0',
  },
  {
    name: 'a relative restore --target',
    argv: () => ['restore', '--subvolume', 'data', '--target', `${RELATIVE}/restored`],
    error: `--target must be an absolute path, got "${RELATIVE}/restored"`,
  },
  {
    name: 'a restore --target that is not empty',
    argv: ({ root }) => ['restore', '--subvolume', 'data', '--target', join(root, 'occupied')],
    prepare: ({ root }) => {
      mkdirSync(join(root, 'occupied'));
      writeFileSync(join(root, 'occupied', 'keep.txt'), 'not ours');
    },
    error: ({ root }) => `--target ${join(root, 'occupied')} exists and is not empty`,
  },
  {
    name: 'a --config that does not exist',
    argv: ({ root }) => ['config', 'validate', '--config', join(root, 'missing.toml')],
    error: ({ root }) => `--config: cannot read ${join(root, 'missing.toml')}: ENOENT`,
  },
  {
    name: 'a BTRFS_TO_S3_CONFIG that is a directory',
    argv: backup(),
    env: ({ home }) => ({ BTRFS_TO_S3_CONFIG: home }),
    error: ({ home }) => `--config: cannot read ${home}: EISDIR`,
  },
];

interface Run {
  readonly paths: Paths;
  readonly server: FakeS3Endpoint;
  readonly result: CliResult;
  /** The tree under the temp dir before the run. */
  readonly before: readonly string[];
}

type CaseSetup = Pick<BadInput, 'argv' | 'patch' | 'edit' | 'env' | 'prepare'>;

/**
 * Writes the case's config in a fresh temp dir, runs the CLI against a counting endpoint,
 * hands what happened to `check`, then removes the temp dir and stops the endpoint.
 */
async function withRun(input: CaseSetup, check: (run: Run) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bad-input-'));
  const server = await startFakeS3Endpoint();
  try {
    // HOME inside the temp dir: the `~` defaults, and anything the CLI might cache there, land where the check looks.
    const paths: Paths = { root, home: join(root, 'home'), config: join(root, 'config.toml') };
    mkdirSync(paths.home);
    const patch = typeof input.patch === 'function' ? input.patch(paths) : (input.patch ?? {});
    const toml = toToml(applyPatch(validConfig(paths, server.url), patch));
    writeFileSync(paths.config, input.edit ? input.edit(toml) : toml);
    input.prepare?.(paths);
    const before = tree(root);
    const argv = input.argv(paths);
    const env = typeof input.env === 'function' ? input.env(paths) : input.env;
    const configChosen = argv.includes('--config') || env?.BTRFS_TO_S3_CONFIG !== undefined;
    const result = await cliAsync(configChosen ? argv : [...argv, '--config', paths.config], { HOME: paths.home, ...env });
    check({ paths, server, result, before });
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

describe('bad input is refused before anything happens', () => {
  it('(control) the unchanged config is valid and plans with no S3 request, so each case below fails for its one change', async () => {
    await withRun({ argv: validate() }, ({ result }) => {
      expect(result.stdout).toContain('valid (2 subvolumes: data, home-subvolume)');
      expect(result.code).toBe(0);
    });
    // With no state and no snapshot directory, a plan needs neither Btrfs nor S3.
    await withRun({ argv: plan() }, ({ result, server }) => {
      expect(result.stdout).toContain('data: full (');
      expect(result.code).toBe(0);
      expect(server.requests).toEqual([]);
    });
  });

  // Concurrent: each case owns its temp dir and endpoint, and a run is mostly Node start-up,
  // so overlapping them keeps the table's wall time small on a two-core machine.
  it.concurrent.each([...configCases, ...envCases, ...cliCases].map((input) => [input.name, input] as const))(
    'refuses %s, naming it, with the usage exit code and no side effect',
    async (_name, input) => {
      await withRun(input, ({ paths, server, result, before }) => {
        const output = oneLine(`${result.stdout}\n${result.stderr}`);
        expect(output).toContain(oneLine(typeof input.error === 'function' ? input.error(paths) : input.error));
        expect(result.code).toBe(ExitCode.Usage);
        if (input.issueKeys !== undefined) {
          const json = JSON.parse(result.stdout) as { error: { exitCode: number; issues: { key: string }[] } };
          expect(json.error.exitCode).toBe(ExitCode.Usage);
          expect(json.error.issues.map((issue) => issue.key).sort()).toEqual([...input.issueKeys].sort());
        }

        // No side effect: no S3 request, nothing new under the temp dir (snapshots, state,
        // lock, metrics, spool and restore target all live there), nothing at the relative paths.
        expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([]);
        expect(tree(paths.root)).toEqual(before);
        for (const path of ['snapshots', 'state', 'spool', 'restored'].filter((entry) => !before.includes(entry)))
          expect(existsSync(join(paths.root, path))).toBe(false);
        expect(existsSync(join(process.cwd(), RELATIVE))).toBe(false);
      });
    },
  );
});
