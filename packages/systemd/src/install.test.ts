import { ExitCode, ProcessError, type ProcessResult } from '@org/btrfs-s3-core';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemdError } from './errors';
import { applyActions, type CommandRunner, describeAction, planInstall, planUninstall, type UnitAction } from './install';
import type { RenderedUnits, UnitFiles } from './units';

const units: RenderedUnits = {
  'btrfs-to-s3.service': '[Service]\nType=oneshot\n',
  'btrfs-to-s3.timer': '[Timer]\nOnCalendar=*-*-* 02:00:00\n',
};
const withDrill: UnitFiles = {
  ...units,
  'btrfs-to-s3-drill.service': '[Service]\nType=oneshot\nExecStart=/usr/bin/btrfs-to-s3 drill --sample 1\n',
  'btrfs-to-s3-drill.timer': '[Timer]\nOnCalendar=*-*-01 14:00:00\n',
};

/** Records systemctl calls; fails the ones `fail` names, as systemctl would exit 1. */
class FakeSystemctl implements CommandRunner {
  readonly calls: string[][] = [];
  constructor(private readonly fail: (args: readonly string[]) => boolean = () => false) {}

  async run(command: string, args: readonly string[]): Promise<ProcessResult> {
    this.calls.push([command, ...args]);
    if (this.fail(args)) throw new ProcessError(command, args, 1, 'Failed to connect to bus: No such file or directory\n');
    return { stdout: '', stderr: '' };
  }
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'systemd-install-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe('install', () => {
  it('creates the missing writable directories, writes both units, reloads systemd and enables the timer, in that order', async () => {
    const dir = await tempDir();
    const unitDir = join(dir, 'units');
    const state = join(dir, 'state', 'btrfs_to_s3');
    const actions = await planInstall({ unitDir, units, directories: [dir, state], enable: true });
    const systemctl = new FakeSystemctl();
    await applyActions(actions, systemctl);

    expect(actions.map((action) => action.action)).toEqual(['create-directory', 'write-file', 'write-file', 'run', 'run']);
    expect(await readFile(join(unitDir, 'btrfs-to-s3.service'), 'utf8')).toBe(units['btrfs-to-s3.service']);
    expect(await readFile(join(unitDir, 'btrfs-to-s3.timer'), 'utf8')).toBe(units['btrfs-to-s3.timer']);
    expect((await stat(join(unitDir, 'btrfs-to-s3.service'))).mode & 0o777).toBe(0o644);
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    expect(systemctl.calls).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'btrfs-to-s3.timer'],
    ]);
  });

  it('with the drill units, writes all four and enables the drill timer after the backup timer', async () => {
    const dir = await tempDir();
    const actions = await planInstall({ unitDir: dir, units: withDrill, directories: [], enable: true });
    const systemctl = new FakeSystemctl();
    await applyActions(actions, systemctl);
    expect(actions.filter((action) => action.action === 'write-file').map((action) => 'path' in action && action.path)).toEqual([
      join(dir, 'btrfs-to-s3.service'),
      join(dir, 'btrfs-to-s3.timer'),
      join(dir, 'btrfs-to-s3-drill.service'),
      join(dir, 'btrfs-to-s3-drill.timer'),
    ]);
    expect(await readFile(join(dir, 'btrfs-to-s3-drill.timer'), 'utf8')).toBe(withDrill['btrfs-to-s3-drill.timer']);
    expect(systemctl.calls).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'btrfs-to-s3.timer'],
      ['systemctl', 'enable', '--now', 'btrfs-to-s3-drill.timer'],
    ]);
  });

  it('with enable off, writes the files and runs no systemctl', async () => {
    const dir = await tempDir();
    const systemctl = new FakeSystemctl();
    await applyActions(await planInstall({ unitDir: dir, units, directories: [], enable: false }), systemctl);
    expect(systemctl.calls).toEqual([]);
    expect(existsSync(join(dir, 'btrfs-to-s3.timer'))).toBe(true);
  });

  it('stops at a failing systemctl with a SystemdError that names the command and its stderr', async () => {
    const dir = await tempDir();
    const systemctl = new FakeSystemctl((args) => args[0] === 'daemon-reload');
    const done: UnitAction[] = [];
    const applying = applyActions(await planInstall({ unitDir: dir, units, directories: [], enable: true }), systemctl, (action) =>
      done.push(action),
    );
    await expect(applying).rejects.toThrow(SystemdError);
    await expect(applying).rejects.toMatchObject({
      exitCode: ExitCode.Fatal,
      message: expect.stringMatching(/`systemctl daemon-reload` exited with code 1: Failed to connect to bus/),
    });
    expect(systemctl.calls).toEqual([['systemctl', 'daemon-reload']]);
    expect(done.map((action) => action.action)).toEqual(['write-file', 'write-file']);
  });

  it('reports a unit directory it cannot write, naming the path', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), '');
    const unitDir = join(dir, 'file', 'units');
    const applying = applyActions(await planInstall({ unitDir, units, directories: [], enable: false }), new FakeSystemctl());
    await expect(applying).rejects.toThrow(new RegExp(`cannot write file ${join(unitDir, 'btrfs-to-s3.service')}: ENOTDIR`));
  });
});

describe('uninstall', () => {
  async function installed(files: UnitFiles = units): Promise<string> {
    const dir = await tempDir();
    await applyActions(await planInstall({ unitDir: dir, units: files, directories: [], enable: false }), new FakeSystemctl());
    return dir;
  }

  it('disables the drill timer too and removes the drill units when they are there', async () => {
    const dir = await installed(withDrill);
    const systemctl = new FakeSystemctl();
    const actions = await planUninstall({ unitDir: dir, enable: true });
    await applyActions(actions, systemctl);
    expect(actions).toEqual([
      { action: 'run', command: ['systemctl', 'disable', '--now', 'btrfs-to-s3.timer'] },
      { action: 'run', command: ['systemctl', 'disable', '--now', 'btrfs-to-s3-drill.timer'] },
      { action: 'remove-file', path: join(dir, 'btrfs-to-s3.timer') },
      { action: 'remove-file', path: join(dir, 'btrfs-to-s3.service') },
      { action: 'remove-file', path: join(dir, 'btrfs-to-s3-drill.timer') },
      { action: 'remove-file', path: join(dir, 'btrfs-to-s3-drill.service') },
      { action: 'run', command: ['systemctl', 'daemon-reload'] },
    ]);
    for (const name of Object.keys(withDrill)) expect(existsSync(join(dir, name))).toBe(false);
    await expect(planUninstall({ unitDir: dir, enable: true })).resolves.toEqual([]);
  });

  it('disables the timer while its file is there, removes both files, then reloads systemd', async () => {
    const dir = await installed();
    const systemctl = new FakeSystemctl();
    const actions = await planUninstall({ unitDir: dir, enable: true });
    await applyActions(actions, systemctl);
    expect(actions).toEqual([
      { action: 'run', command: ['systemctl', 'disable', '--now', 'btrfs-to-s3.timer'] },
      { action: 'remove-file', path: join(dir, 'btrfs-to-s3.timer') },
      { action: 'remove-file', path: join(dir, 'btrfs-to-s3.service') },
      { action: 'run', command: ['systemctl', 'daemon-reload'] },
    ]);
    expect(systemctl.calls).toEqual([
      ['systemctl', 'disable', '--now', 'btrfs-to-s3.timer'],
      ['systemctl', 'daemon-reload'],
    ]);
    expect(existsSync(join(dir, 'btrfs-to-s3.timer'))).toBe(false);
    expect(existsSync(join(dir, 'btrfs-to-s3.service'))).toBe(false);
  });

  it('does nothing when nothing is installed, so running it twice succeeds', async () => {
    const dir = await installed();
    await applyActions(await planUninstall({ unitDir: dir, enable: false }), new FakeSystemctl());
    await expect(planUninstall({ unitDir: dir, enable: true })).resolves.toEqual([]);
  });

  it('does not ask systemctl to disable a timer whose file is already gone', async () => {
    const dir = await installed();
    await rm(join(dir, 'btrfs-to-s3.timer'));
    expect((await planUninstall({ unitDir: dir, enable: true })).filter((action) => action.action === 'run')).toEqual([
      { action: 'run', command: ['systemctl', 'daemon-reload'] },
    ]);
  });
});

describe('describeAction', () => {
  it('says what was done, or in a dry run what would be done, showing written files in full', () => {
    expect(describeAction({ action: 'run', command: ['systemctl', 'daemon-reload'] }, { dryRun: false })).toBe(
      'ran: systemctl daemon-reload',
    );
    expect(describeAction({ action: 'run', command: ['systemctl', 'daemon-reload'] }, { dryRun: true })).toBe(
      'would run: systemctl daemon-reload',
    );
    expect(describeAction({ action: 'write-file', path: '/u/x.timer', content: '[Timer]\n' }, { dryRun: true })).toBe(
      'would write /u/x.timer:\n[Timer]\n',
    );
    expect(describeAction({ action: 'write-file', path: '/u/x.timer', content: '[Timer]\n' }, { dryRun: false })).toBe('wrote /u/x.timer');
    expect(describeAction({ action: 'create-directory', path: '/srv/s' }, { dryRun: true })).toBe('would create directory /srv/s');
    expect(describeAction({ action: 'remove-file', path: '/u/x.timer' }, { dryRun: false })).toBe('removed /u/x.timer');
  });
});
