import { ExitCode } from '@org/btrfs-s3-core';
import { backupConfig, Bucket, gatewayEnv, run, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BIN, cli, writeConfig } from './helpers';

const SERVICE = 'btrfs-to-s3.service';
const TIMER = 'btrfs-to-s3.timer';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A config file in its own temp dir, removed after the suite. */
function tempConfig(text: string): string {
  const config = writeConfig(text);
  tempDirs.push(dirname(config));
  return config;
}

/** A config whose every path lies in a fresh temp dir (unless `baseDir` says otherwise), so an install creates nothing outside it. */
function setup(baseDir?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'systemd-'));
  tempDirs.push(dir);
  const config = tempConfig(`
[global]
state_path = "${dir}/state/state.json"
lock_path = "${dir}/state/run.lock"
metrics_path = "${dir}/state/metrics.json"
spool_dir = "${dir}/spool"
[schedule]
run_at = "03:15"
[snapshots]
base_dir = "${baseDir ?? `${dir}/snapshots`}"
[subvolumes]
paths = ["/srv/data"]
[s3]
bucket = "example-backups"
region = "eu-central-1"
prefix = "host1"
`);
  return { unitDir: join(dir, 'units'), config };
}

const lines = (unit: string, directive: string) => unit.split('\n').filter((line) => line.startsWith(`${directive}=`));
const execStart = (config: string) => `ExecStart=${resolve(BIN)} backup --config ${config}`;

describe('systemd install / show / uninstall', () => {
  it('install --no-enable writes both units for this executable and config, and runs no systemctl', () => {
    const { unitDir, config } = setup();
    const result = cli(['systemd', 'install', '--unit-dir', unitDir, '--no-enable', '--config', config]);
    expect(result.code).toBe(ExitCode.Success);
    const service = readFileSync(join(unitDir, SERVICE), 'utf8');
    const timer = readFileSync(join(unitDir, TIMER), 'utf8');
    expect(lines(service, 'ExecStart')).toEqual([execStart(config)]);
    expect(lines(timer, 'OnCalendar')).toEqual(['OnCalendar=*-*-* 03:15:00']);
    expect(result.stdout).toBe(
      `wrote ${join(unitDir, SERVICE)}\nwrote ${join(unitDir, TIMER)}\nnot enabled; to start the timer: systemctl daemon-reload && systemctl enable --now btrfs-to-s3.timer\n`,
    );
  });

  it('install --dry-run prints both units and the systemctl commands, and writes nothing', () => {
    // Outside /tmp (where the service's private /tmp would hide it), so the sandbox must grant it and install create it.
    const baseDir = `/var/lib/btrfs-to-s3-test-${process.pid}/snapshots`;
    const { unitDir, config } = setup(baseDir);
    const result = cli(['systemd', 'install', '--unit-dir', unitDir, '--dry-run', '--config', config]);
    expect(result.code).toBe(ExitCode.Success);
    expect(result.stdout).toMatch(new RegExp(`^would create directory ${baseDir}\n`));
    expect(result.stdout).toContain(`\nReadWritePaths=-${baseDir}\n`);
    expect(existsSync(dirname(baseDir))).toBe(false);
    expect(result.stdout).toContain(`would write ${join(unitDir, SERVICE)}:\n# Rendered by`);
    expect(result.stdout).toContain(`\n${execStart(config)}\n`);
    expect(result.stdout).toContain(`would write ${join(unitDir, TIMER)}:\n[Unit]\nDescription=Daily btrfs-to-s3 backup\n`);
    expect(result.stdout).toMatch(/would run: systemctl daemon-reload\nwould run: systemctl enable --now btrfs-to-s3\.timer\n$/);
    expect(existsSync(unitDir)).toBe(false);
  });

  it('install --dry-run --json returns the plan, in order', () => {
    const { unitDir, config } = setup();
    const result = cli(['systemd', 'install', '--unit-dir', unitDir, '--dry-run', '--json', '--config', config]);
    expect(result.code).toBe(ExitCode.Success);
    const plan = JSON.parse(result.stdout);
    expect(plan).toMatchObject({ dryRun: true, unitDir, execPath: resolve(BIN), configPath: config });
    expect(
      plan.actions.map((action: { action: string; path?: string; command?: string[] }) => action.path ?? action.command?.join(' ')),
    ).toEqual([join(unitDir, SERVICE), join(unitDir, TIMER), 'systemctl daemon-reload', 'systemctl enable --now btrfs-to-s3.timer']);
    expect(existsSync(unitDir)).toBe(false);
  });

  it('uninstall --no-enable removes both units, and a second uninstall finds nothing to do', () => {
    const { unitDir, config } = setup();
    expect(cli(['systemd', 'install', '--unit-dir', unitDir, '--no-enable', '--config', config]).code).toBe(ExitCode.Success);
    const removed = cli(['systemd', 'uninstall', '--unit-dir', unitDir, '--no-enable']);
    expect(removed.code).toBe(ExitCode.Success);
    expect(removed.stdout).toBe(`removed ${join(unitDir, TIMER)}\nremoved ${join(unitDir, SERVICE)}\n`);
    expect(existsSync(join(unitDir, SERVICE))).toBe(false);
    expect(existsSync(join(unitDir, TIMER))).toBe(false);
    const again = cli(['systemd', 'uninstall', '--unit-dir', unitDir, '--no-enable', '--json']);
    expect(again.code).toBe(ExitCode.Success);
    expect(JSON.parse(again.stdout)).toEqual({ dryRun: false, unitDir, actions: [] });
  });

  it('uninstall --dry-run lists what it would do and removes nothing', () => {
    const { unitDir, config } = setup();
    cli(['systemd', 'install', '--unit-dir', unitDir, '--no-enable', '--config', config]);
    const result = cli(['systemd', 'uninstall', '--unit-dir', unitDir, '--dry-run']);
    expect(result.code).toBe(ExitCode.Success);
    expect(result.stdout).toBe(
      `would run: systemctl disable --now btrfs-to-s3.timer\nwould remove ${join(unitDir, TIMER)}\nwould remove ${join(unitDir, SERVICE)}\nwould run: systemctl daemon-reload\n`,
    );
    expect(existsSync(join(unitDir, TIMER))).toBe(true);
  });

  it('show --json returns the rendered units and the paths they use', () => {
    const { config } = setup();
    const result = cli(['systemd', 'show', '--json', '--config', config]);
    expect(result.code).toBe(ExitCode.Success);
    const shown = JSON.parse(result.stdout);
    expect(Object.keys(shown.units)).toEqual([SERVICE, TIMER]);
    expect(shown).toMatchObject({ execPath: resolve(BIN), configPath: config });
    expect(lines(shown.units[SERVICE], 'ExecStart')).toEqual([execStart(config)]);
    expect(lines(shown.units[SERVICE], 'CapabilityBoundingSet')).toEqual([
      'CapabilityBoundingSet=CAP_SYS_ADMIN CAP_DAC_READ_SEARCH CAP_FOWNER',
    ]);
    expect(lines(shown.units[TIMER], 'OnCalendar')).toEqual(['OnCalendar=*-*-* 03:15:00']);
  });

  it('refuses to install for an invalid config (exit 2) and writes nothing', () => {
    const { unitDir } = setup();
    const config = tempConfig('[snapshots]\nbase_dir = "relative"\n');
    const result = cli(['systemd', 'install', '--unit-dir', unitDir, '--no-enable', '--config', config]);
    expect(result.code).toBe(ExitCode.Usage);
    expect(result.stderr).toContain('snapshots.base_dir');
    expect(existsSync(unitDir)).toBe(false);
  });

  it('fails with exit 1 naming the unit file it cannot write', () => {
    const { unitDir, config } = setup();
    writeFileSync(unitDir, 'a file where the directory should be');
    const result = cli(['systemd', 'install', '--unit-dir', join(unitDir, 'system'), '--no-enable', '--config', config]);
    expect(result.code).toBe(ExitCode.Fatal);
    expect(result.stderr).toContain(`cannot write file ${join(unitDir, 'system', SERVICE)}: ENOTDIR`);
  });
});

/** `CAP_SYS_ADMIN CAP_FOWNER` as setpriv(1) takes a bounding set: `-all,+sys_admin,+fowner`. */
function boundingSet(capabilities: readonly string[]): string {
  return ['-all', ...capabilities.map((cap) => `+${cap.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
}

describe('the service sandbox on real Btrfs and the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  /**
   * Runs a backup in the parts of the unit's sandbox that can be rebuilt without systemd
   * (CI has none running): no capabilities beyond `capabilities` and no way to regain any
   * (CapabilityBoundingSet=, NoNewPrivileges=), the subvolume read-only (ProtectSystem=strict
   * without it in ReadWritePaths=), and only the processes in /proc (ProcSubset=pid).
   */
  function sandboxedBackup(mnt: string, config: string, capabilities: readonly string[]) {
    const script = `mount -t proc -o subset=pid proc /proc && mount --bind -o ro "$1" "$1" && shift && exec "$@"`;
    const command = [
      'setpriv',
      `--bounding-set=${boundingSet(capabilities)}`,
      '--inh-caps=-all',
      '--no-new-privs',
      process.execPath,
      BIN,
      'backup',
      '--json',
      '--config',
      config,
    ];
    const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', join(mnt, 'alice'), ...command], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...gatewayEnv() },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** A subvolume like /home/alice: owned by another user, mode 0700. */
  async function aliceSubvolume(mnt: string): Promise<void> {
    await run('btrfs', ['subvolume', 'create', join(mnt, 'alice')]);
    await writeRandomFiles(join(mnt, 'alice'), 2, 64 * 1024);
    await run('chown', ['-R', '1000:1000', join(mnt, 'alice')]);
    await chmod(join(mnt, 'alice'), 0o700);
  }

  it("backs up another user's 0700 subvolume, read-only, with only the unit's capabilities", async () => {
    await withLoopBtrfs(async (mnt) => {
      await aliceSubvolume(mnt);
      const prefix = uniquePrefix('sandbox');
      const config = backupConfig(mnt, prefix, ['alice']);
      tempDirs.push(dirname(config));
      const shown: { units: Record<string, string> } = JSON.parse(cli(['systemd', 'show', '--json', '--config', config]).stdout);
      const unit = shown.units[SERVICE] ?? '';
      const capabilities = (lines(unit, 'CapabilityBoundingSet')[0] ?? '').replace('CapabilityBoundingSet=', '').split(' ');
      // The emulation below mounts /proc as this unit asks; the subvolumes' absence from ReadWritePaths= is a unit test.
      expect(lines(unit, 'ProcSubset')).toEqual(['ProcSubset=pid']);

      const result = sandboxedBackup(mnt, config, capabilities);
      // Compared together so a failure shows the CLI's stderr.
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: ExitCode.Success, stderr: expect.any(String) });
      expect(JSON.parse(result.stdout).outcomes).toEqual([expect.objectContaining({ subvolume: 'alice', result: 'published' })]);
      expect(await bucket.keys(`${prefix}/subvol/alice/current.json`)).toEqual([`${prefix}/subvol/alice/current.json`]);
    });
  });

  it('fails without any one of them, so each capability the unit keeps is needed', async () => {
    await withLoopBtrfs(async (mnt) => {
      await aliceSubvolume(mnt);
      const prefix = uniquePrefix('sandbox-no-cap');
      const config = backupConfig(mnt, prefix, ['alice']);
      tempDirs.push(dirname(config));
      const all = ['CAP_SYS_ADMIN', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER'];
      // What btrfs-progs reports without each; FOWNER first, as its run leaves no snapshot behind.
      const expected: [string, RegExp][] = [
        ['CAP_FOWNER', /cannot snapshot '[^']*alice': Operation not permitted/],
        ['CAP_DAC_READ_SEARCH', /Permission denied|can't access/],
        ['CAP_SYS_ADMIN', /Operation not permitted/],
      ];
      for (const [missing, message] of expected) {
        const result = sandboxedBackup(
          mnt,
          config,
          all.filter((cap) => cap !== missing),
        );
        expect({ missing, failed: result.code !== ExitCode.Success, stderr: result.stderr }).toEqual({
          missing,
          failed: true,
          stderr: expect.stringMatching(message),
        });
      }
      expect(await bucket.keys(`${prefix}/subvol/alice/current.json`)).toEqual([]);
    });
  });
});
