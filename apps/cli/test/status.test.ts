import { ExitCode } from '@org/btrfs-s3-core';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, writeConfig } from './helpers';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'status-'));
  const config = writeConfig(`
[global]
state_path = "${dir}/state.json"
lock_path = "${dir}/run.lock"
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
    expect(stdout).toBe('last run: never\nlock: free\ndata: never backed up; the next run makes a full\nhome: never backed up; the next run makes a full\n');
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
    });
    expect(result.subvolumes[1]).toMatchObject({ subvolume: 'home', lastBackupAt: null, nextIncrementalAt: null });
  });

  it('names the PID of a live lock holder', async () => {
    const { dir, config } = setup();
    // A live process that is recorded as the holder (its start time is read from /proc).
    const holder = spawn('sleep', ['60']);
    try {
      await once(holder, 'spawn');
      writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: holder.pid, proc_start: null, host: 'h', started_at: '2026-11-25T02:00:00.000Z' }));
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
