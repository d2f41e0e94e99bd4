import { ExitCode } from '@org/btrfs-s3-core';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { StatusResultSchema } from '@org/btrfs-s3-backup';
import { cli, writeConfig } from './helpers';

/** Every setup()'s directory, removed after the file's tests. */
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'status-'));
  dirs.push(dir);
  const config = writeConfig(`
[global]
state_path = "${dir}/state.json"
lock_path = "${dir}/run.lock"
metrics_path = "${dir}/metrics.json"
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data", "/srv/home"]
[s3]
bucket = "my-backups"
region = "eu-central-1"
prefix = "host1"
`);
  return { dir, config };
}

describe('status', () => {
  it('reports a first run when there is no state, and a free lock', () => {
    const { config } = setup();
    const { code, stdout } = cli(['status', '--config', config]);
    expect(code).toBe(ExitCode.Success);
    expect(stdout).toBe(
      'last run: never\nlock: free\ndata: never backed up; the next run makes a full\nhome: never backed up; the next run makes a full\n',
    );
  });

  it('reports the last backup and when the next ones are due, as JSON', () => {
    const { dir, config } = setup();
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({
        version: 1,
        last_run_at: '2026-11-01T02:05:00.000Z',
        subvolumes: {
          data: {
            last_snapshot: 'data__20261101T020000Z__inc',
            last_manifest: 'host1/subvol/data/inc/20261101T020000Z/manifest.json',
            last_kind: 'inc',
            last_backup_at: '2026-11-01T02:00:00.000Z',
            last_full_at: '2026-06-01T02:00:00.000Z',
          },
        },
      }),
    );
    const { code, stdout } = cli(['status', '--json', '--config', config]);
    expect(code).toBe(ExitCode.Success);
    const result = JSON.parse(stdout);
    expect(result.lastRunAt).toBe('2026-11-01T02:05:00.000Z');
    expect(result.lock).toBeNull();
    expect(result.subvolumes[0]).toEqual({
      subvolume: 'data',
      path: '/srv/data',
      lastBackupAt: '2026-11-01T02:00:00.000Z',
      lastKind: 'inc',
      lastSnapshot: 'data__20261101T020000Z__inc',
      lastManifest: 'host1/subvol/data/inc/20261101T020000Z/manifest.json',
      lastFullAt: '2026-06-01T02:00:00.000Z',
      nextIncrementalAt: '2026-11-08T02:00:00.000Z',
      nextFullAt: '2026-11-28T02:00:00.000Z',
      lastRun: null,
      pendingResume: null,
    });
    expect(result.subvolumes[1]).toMatchObject({ subvolume: 'home', lastBackupAt: null, nextIncrementalAt: null });
  });

  it('shows an interrupted backup waiting to be resumed, in text and JSON', () => {
    const { dir, config } = setup();
    const now = new Date();
    mkdirSync(join(dir, 'resume'));
    const chunk = { key: 'host1/subvol/data/full/20261201T020000Z/chunks/part-00000.bin', size: 4096, etag: 'e-1' };
    writeFileSync(
      join(dir, 'resume', 'data.json'),
      JSON.stringify({
        version: 1,
        subvolume: 'data',
        kind: 'full',
        snapshot: {
          name: 'data__20261201T020000Z__full',
          path: '/srv/.snapshots/data__20261201T020000Z__full',
          uuid: 'u',
          created_at: '2026-12-01T02:00:00.000Z',
        },
        parent: null,
        backup_prefix: 'host1/subvol/data/full/20261201T020000Z',
        layout: { chunk_size: 4096, part_size: 1024, compression: null, recipients: [] },
        chunks: [
          {
            ...chunk,
            sha256: 'a'.repeat(64),
            parts: [{ number: 1, size: 4096, sha256: 'b'.repeat(64) }],
            plain_size: 4096,
            plain_sha256: 'a'.repeat(64),
          },
        ],
        open_upload: {
          key: chunk.key.replace('00000', '00001'),
          upload_id: 'up',
          parts: [{ number: 1, size: 1024, sha256: 'c'.repeat(64), etag: 'e' }],
        },
        started_at: '2026-12-01T02:00:00.000Z',
        updated_at: now.toISOString(),
      }),
    );
    const text = cli(['status', '--config', config]);
    expect(text.stdout).toContain(
      `  an interrupted full backup of data__20261201T020000Z__full is pending: 5.0 KiB uploaded in 1 chunk(s) and 1 part(s), last progress ${now.toISOString()}`,
    );
    const json = cli(['status', '--json', '--config', config]);
    const [data, home] = v.parse(StatusResultSchema, JSON.parse(json.stdout)).subvolumes;
    expect(data?.pendingResume).toMatchObject({ kind: 'full', bytesDone: 5120, chunksDone: 1, partsDone: 1 });
    expect(home?.pendingResume).toBeNull();
  });

  it("shows each subvolume's outcome in the last run from the metrics file, validated by the output schema", () => {
    const { dir, config } = setup();
    writeFileSync(
      join(dir, 'metrics.json'),
      JSON.stringify({
        finished_at: '2026-11-01T02:05:00.000Z',
        outcomes: [
          {
            subvolume: 'data',
            result: 'published',
            manifestKey: 'host1/subvol/data/inc/20261101T020000Z/manifest.json',
            metrics: {
              subvolume: 'data',
              kind: 'inc',
              ok: true,
              bytes: 3 * 1024 * 1024,
              chunks: 1,
              parts: 1,
              retries: 2,
              elapsedSeconds: 1.5,
              finishedAt: 1793498700,
            },
          },
          { subvolume: 'home', result: 'failed', kind: 'full', error: 'S3 PutObject failed' },
        ],
      }),
    );
    const { code, stdout } = cli(['status', '--json', '--config', config]);
    expect(code).toBe(ExitCode.Success);
    const result = v.parse(StatusResultSchema, JSON.parse(stdout));
    expect(result.subvolumes.map((entry) => entry.lastRun)).toEqual([
      {
        finishedAt: '2026-11-01T02:05:00.000Z',
        result: 'published',
        kind: 'inc',
        bytes: 3 * 1024 * 1024,
        chunks: 1,
        parts: 1,
        retries: 2,
        elapsedSeconds: 1.5,
        manifestKey: 'host1/subvol/data/inc/20261101T020000Z/manifest.json',
        detail: null,
      },
      {
        finishedAt: '2026-11-01T02:05:00.000Z',
        result: 'failed',
        kind: 'full',
        bytes: null,
        chunks: null,
        parts: null,
        retries: null,
        elapsedSeconds: null,
        manifestKey: null,
        detail: 'S3 PutObject failed',
      },
    ]);
    const human = cli(['status', '--config', config]).stdout;
    expect(human).toContain(
      '  last run 2026-11-01T02:05:00.000Z: inc published, 3.0 MiB in 1 chunk(s), 1 part(s), 2 retries, 1.5 s (2.0 MiB/s)\n',
    );
    expect(human).toContain('  last run 2026-11-01T02:05:00.000Z: failed (S3 PutObject failed)\n');
  });

  it('warns about an unreadable metrics file and shows the rest', () => {
    const { dir, config } = setup();
    writeFileSync(join(dir, 'metrics.json'), '{"finished_at": 3');
    const { code, stdout, stderr } = cli(['status', '--json', '--config', config]);
    expect(code).toBe(ExitCode.Success);
    expect(v.parse(StatusResultSchema, JSON.parse(stdout)).subvolumes.map((entry) => entry.lastRun)).toEqual([null, null]);
    expect(stderr).toContain(`metrics file ${dir}/metrics.json cannot be read`);
  });

  it('names the PID of a live lock holder', async () => {
    const { dir, config } = setup();
    // A live process that is recorded as the holder (its start time is read from /proc).
    const holder = spawn('sleep', ['60']);
    try {
      await once(holder, 'spawn');
      writeFileSync(
        join(dir, 'run.lock'),
        JSON.stringify({ pid: holder.pid, proc_start: null, host: 'h', started_at: '2026-11-25T02:00:00.000Z' }),
      );
      expect(cli(['status', '--config', config]).stdout).toContain(`lock: held by PID ${holder.pid} since 2026-11-25T02:00:00.000Z`);
    } finally {
      holder.kill('SIGKILL');
    }
    await once(holder, 'exit');
    expect(cli(['status', '--config', config]).stdout).toContain('lock: free');
  });

  it('fails with a clear error on a corrupt state file, naming it', () => {
    const { dir, config } = setup();
    writeFileSync(join(dir, 'state.json'), '{not json');
    const { code, stderr } = cli(['status', '--config', config]);
    expect(code).toBe(ExitCode.Fatal);
    expect(stderr).toContain(`state file ${dir}/state.json is corrupt`);
  });
});
