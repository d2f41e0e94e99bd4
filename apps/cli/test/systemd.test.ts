import { ExitCode } from '@org/btrfs-s3-core';
import { backupConfig, Bucket, gatewayEnv, run, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { COMMANDS } from '../src/app';
import { BIN, cli, writeConfig } from './helpers';

const SERVICE = 'btrfs-to-s3.service';
const TIMER = 'btrfs-to-s3.timer';
const DRILL_SERVICE = 'btrfs-to-s3-drill.service';
const DRILL_TIMER = 'btrfs-to-s3-drill.timer';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A config file in its own temp dir, removed after the suite. */
function tempConfig(text: string): string {
  const config = writeConfig(text);
  tempDirs.push(dirname(config));
  return config;
}

/**
 * A config whose every path lies in a fresh temp dir (unless `baseDir` says otherwise), so an
 * install creates nothing outside it; `scratchDir` sets drill.scratch_dir.
 */
function setup(options: { baseDir?: string; scratchDir?: string } = {}) {
  const { baseDir, scratchDir } = options;
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
${scratchDir === undefined ? '' : `[drill]\nscratch_dir = "${scratchDir}"\n`}`);
  return { unitDir: join(dir, 'units'), config };
}

const LOOP_BTRFS = join(dirname(require.resolve('@org/testenv/package.json')), 'bin', 'loop-btrfs.sh');

/**
 * A fresh loop Btrfs mounted outside /tmp (the drill service has a private /tmp, so
 * `install --drill` refuses a scratch directory there; withLoopBtrfs mounts under it),
 * with a `scratch` subvolume on it.
 */
async function withScratchBtrfs<T>(fn: (scratch: string, mnt: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync('/var/lib/btrfs-to-s3-test-');
  try {
    await run(LOOP_BTRFS, ['create', dir, '1G']);
    const mnt = join(dir, 'mnt');
    await run('btrfs', ['subvolume', 'create', join(mnt, 'scratch')]);
    return await fn(join(mnt, 'scratch'), mnt);
  } finally {
    await run(LOOP_BTRFS, ['destroy', dir]);
  }
}

const lines = (unit: string, directive: string) => unit.split('\n').filter((line) => line.startsWith(`${directive}=`));
const execStart = (config: string) => `ExecStart=${resolve(BIN)} backup --config ${config}`;
const drillExecStart = (config: string) => `ExecStart=${resolve(BIN)} drill --config ${config} --sample 1`;

describe('the systemd plugin', () => {
  it("provides the systemd commands, which the main binary runs: none of them is the CLI's own", () => {
    const plugin = JSON.parse(readFileSync(require.resolve('@org/btrfs-s3-plugin-systemd/package.json'), 'utf8'));
    const cli = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(cli.oclif.plugins).toContain(plugin.name);
    expect(Object.keys(COMMANDS).filter((id) => id.startsWith('systemd'))).toEqual([]);
    const help = spawnSync(process.execPath, [BIN, 'systemd', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/systemd install +Install the daily backup/);
  });
});

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
    const { unitDir, config } = setup({ baseDir });
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

describe('systemd install --drill / show --drill / uninstall', () => {
  it('install --drill --no-enable writes the drill units too, for the scratch directory; uninstall removes all four', async () => {
    await withScratchBtrfs(async (scratch) => {
      const { unitDir, config } = setup({ scratchDir: scratch });
      const result = cli(['systemd', 'install', '--drill', '--unit-dir', unitDir, '--no-enable', '--config', config]);
      // Compared together so a failure shows the CLI's stderr (warnings about the config's /tmp paths).
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: ExitCode.Success, stderr: expect.any(String) });
      expect(result.stdout).toBe(
        [SERVICE, TIMER, DRILL_SERVICE, DRILL_TIMER].map((name) => `wrote ${join(unitDir, name)}\n`).join('') +
          'not enabled; to start the timers: systemctl daemon-reload && systemctl enable --now btrfs-to-s3.timer && systemctl enable --now btrfs-to-s3-drill.timer\n',
      );
      const service = readFileSync(join(unitDir, DRILL_SERVICE), 'utf8');
      const timer = readFileSync(join(unitDir, DRILL_TIMER), 'utf8');
      expect(lines(service, 'ExecStart')).toEqual([drillExecStart(config)]);
      expect(lines(service, 'Type')).toEqual(['Type=oneshot']);
      expect(lines(service, 'SuccessExitStatus')).toEqual(['SuccessExitStatus=130 143']);
      // The config's other paths are under /tmp, which the service has privately: the scratch directory is all it may write.
      expect(lines(service, 'ReadWritePaths')).toEqual([`ReadWritePaths=-${scratch}`]);
      expect(lines(timer, 'OnCalendar')).toEqual(['OnCalendar=*-*-01 15:15:00']);
      expect(lines(timer, 'Persistent')).toEqual(['Persistent=true']);
      // The backup units are the same as without --drill.
      expect(lines(readFileSync(join(unitDir, SERVICE), 'utf8'), 'ExecStart')).toEqual([execStart(config)]);

      const removed = cli(['systemd', 'uninstall', '--unit-dir', unitDir, '--no-enable']);
      expect(removed.code).toBe(ExitCode.Success);
      expect(removed.stdout).toBe([TIMER, SERVICE, DRILL_TIMER, DRILL_SERVICE].map((name) => `removed ${join(unitDir, name)}\n`).join(''));
      for (const name of [SERVICE, TIMER, DRILL_SERVICE, DRILL_TIMER]) expect(existsSync(join(unitDir, name))).toBe(false);
    });
  });

  it('install --drill --dry-run plans enabling both timers; uninstall --dry-run disables both first; install without --drill leaves the drill units', async () => {
    await withScratchBtrfs(async (scratch) => {
      const { unitDir, config } = setup({ scratchDir: scratch });
      const plan = cli(['systemd', 'install', '--drill', '--unit-dir', unitDir, '--dry-run', '--json', '--config', config]);
      expect(plan.code).toBe(ExitCode.Success);
      expect(
        JSON.parse(plan.stdout).actions.map((action: { path?: string; command?: string[] }) => action.path ?? action.command?.join(' ')),
      ).toEqual([
        ...[SERVICE, TIMER, DRILL_SERVICE, DRILL_TIMER].map((name) => join(unitDir, name)),
        'systemctl daemon-reload',
        'systemctl enable --now btrfs-to-s3.timer',
        'systemctl enable --now btrfs-to-s3-drill.timer',
      ]);
      expect(existsSync(unitDir)).toBe(false);

      expect(cli(['systemd', 'install', '--drill', '--unit-dir', unitDir, '--no-enable', '--config', config]).code).toBe(ExitCode.Success);
      const drillUnit = readFileSync(join(unitDir, DRILL_SERVICE), 'utf8');
      const again = cli(['systemd', 'install', '--unit-dir', unitDir, '--no-enable', '--config', config]);
      expect(again.code).toBe(ExitCode.Success);
      expect(again.stderr).toContain(`${DRILL_SERVICE} in ${unitDir} was left as it is`);
      expect(readFileSync(join(unitDir, DRILL_SERVICE), 'utf8')).toBe(drillUnit);

      const removing = cli(['systemd', 'uninstall', '--unit-dir', unitDir, '--dry-run']);
      expect(removing.code).toBe(ExitCode.Success);
      expect(removing.stdout).toBe(
        [
          'would run: systemctl disable --now btrfs-to-s3.timer',
          'would run: systemctl disable --now btrfs-to-s3-drill.timer',
          ...[TIMER, SERVICE, DRILL_TIMER, DRILL_SERVICE].map((name) => `would remove ${join(unitDir, name)}`),
          'would run: systemctl daemon-reload',
          '',
        ].join('\n'),
      );
      expect(existsSync(join(unitDir, DRILL_TIMER))).toBe(true);
    });
  });

  it('show --drill --json returns all four units', async () => {
    await withScratchBtrfs(async (scratch) => {
      const { config } = setup({ scratchDir: scratch });
      const result = cli(['systemd', 'show', '--drill', '--json', '--config', config]);
      expect(result.code).toBe(ExitCode.Success);
      const shown = JSON.parse(result.stdout);
      expect(Object.keys(shown.units)).toEqual([SERVICE, TIMER, DRILL_SERVICE, DRILL_TIMER]);
      expect(lines(shown.units[DRILL_SERVICE], 'ExecStart')).toEqual([drillExecStart(config)]);
      expect(lines(shown.units[DRILL_TIMER], 'OnCalendar')).toEqual(['OnCalendar=*-*-01 15:15:00']);
    });
  });

  it('refuses install --drill without drill.scratch_dir (exit 2, one line naming the key) and writes nothing', () => {
    const { unitDir, config } = setup();
    for (const extra of [['--no-enable'], ['--dry-run']]) {
      const result = cli(['systemd', 'install', '--drill', '--unit-dir', unitDir, ...extra, '--config', config]);
      expect(result.code).toBe(ExitCode.Usage);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/drill\.scratch_dir is not set: .*an existing directory on Btrfs/),
      ]);
    }
    expect(existsSync(unitDir)).toBe(false);
    expect(cli(['systemd', 'show', '--drill', '--config', config]).code).toBe(ExitCode.Usage);
  });

  it('refuses install --drill when the scratch directory does not exist or is not on Btrfs (exit 2, naming it) and writes nothing', () => {
    const missing = `/var/lib/btrfs-to-s3-test-${process.pid}-missing/scratch`;
    const absent = setup({ scratchDir: missing });
    const result = cli(['systemd', 'install', '--drill', '--unit-dir', absent.unitDir, '--no-enable', '--config', absent.config]);
    expect(result.code).toBe(ExitCode.Usage);
    expect(result.stderr).toContain(`drill.scratch_dir ${missing} does not exist`);
    expect(existsSync(absent.unitDir)).toBe(false);

    const notBtrfs = setup({ scratchDir: '/proc' });
    const refused = cli(['systemd', 'install', '--drill', '--unit-dir', notBtrfs.unitDir, '--no-enable', '--config', notBtrfs.config]);
    expect(refused.code).toBe(ExitCode.Usage);
    expect(refused.stderr).toContain('drill.scratch_dir /proc is not on Btrfs');
    expect(existsSync(notBtrfs.unitDir)).toBe(false);
  });

  it('refuses install --drill when the scratch directory is a plain directory on Btrfs, not a subvolume (exit 2), and writes nothing', async () => {
    await withScratchBtrfs(async (_scratch, mnt) => {
      const plain = join(mnt, 'plain');
      mkdirSync(plain);
      const { unitDir, config } = setup({ scratchDir: plain });
      const result = cli(['systemd', 'install', '--drill', '--unit-dir', unitDir, '--no-enable', '--config', config]);
      expect(result.code).toBe(ExitCode.Usage);
      expect(result.stderr).toContain(`drill.scratch_dir ${plain} is a plain directory on Btrfs, not a subvolume`);
      expect(existsSync(unitDir)).toBe(false);
    });
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

describe("the drill service's capabilities on real Btrfs", () => {
  /** A read-only snapshot holding what only some capabilities can receive, and its send stream. */
  async function tricky(mnt: string): Promise<{ stream: string; source: string }> {
    const src = join(mnt, 'src');
    await run('btrfs', ['subvolume', 'create', src]);
    const sh = (script: string) => run('sh', ['-c', script, 'sh', src]);
    // A 0700 home of another user; set-group-ID for a group root is not in; a device node;
    // file capabilities (cap_net_raw+ep, as setcap(8) writes them); a trusted.* attribute.
    await sh(`cd "$1" && mkdir alice && echo secret > alice/file && chown -R 1000:1000 alice && chmod 0600 alice/file && chmod 0700 alice
      echo x > sgid && chgrp 100 sgid && chmod 2755 sgid
      mknod console c 5 1
      echo x > capfile && setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= capfile
      echo x > trusted && setfattr -n trusted.drill -v 1 trusted`);
    await run('btrfs', ['subvolume', 'snapshot', '-r', src, join(mnt, 'snap')]);
    await run('btrfs', ['send', '-f', join(mnt, 'stream'), join(mnt, 'snap')]);
    return { stream: join(mnt, 'stream'), source: join(mnt, 'snap') };
  }

  /**
   * `btrfs receive --chroot` (as the tool runs it) of `stream` into a new directory under
   * `scratch`, with only `capabilities` (as the unit's bounding set leaves them).
   */
  function receiveWith(stream: string, scratch: string, capabilities: readonly string[]) {
    const target = mkdtempSync(join(scratch, 'drill-'));
    const result = spawnSync(
      'setpriv',
      [
        `--bounding-set=${boundingSet(capabilities)}`,
        '--inh-caps=-all',
        '--no-new-privs',
        'btrfs',
        'receive',
        '--chroot',
        '-f',
        stream,
        target,
      ],
      { encoding: 'utf8' },
    );
    return { code: result.status, stderr: result.stderr, snapshot: join(target, 'snap') };
  }

  /** What a receive must reproduce: type, mode, owner, device numbers, extended attributes. */
  const describeTree = (root: string) =>
    run('sh', [
      '-c',
      `cd "$1" && find . -printf '%p %M %U %G\\n' | sort && stat -c '%n %t:%T' console && getfattr -d -m - -e hex capfile trusted`,
      'sh',
      root,
    ]);

  it("receives owners, set-group-ID bits, device nodes, file capabilities and trusted attributes, chrooted, with the unit's capabilities, and not without each", async () => {
    await withScratchBtrfs(async (scratch, mnt) => {
      const { stream, source } = await tricky(mnt);
      const config = setup({ scratchDir: scratch }).config;
      const shown: { units: Record<string, string> } = JSON.parse(cli(['systemd', 'show', '--drill', '--json', '--config', config]).stdout);
      const unit = shown.units[DRILL_SERVICE] ?? '';
      const capabilities = (lines(unit, 'CapabilityBoundingSet')[0] ?? '').replace('CapabilityBoundingSet=', '').split(' ');
      expect(capabilities.length).toBeGreaterThan(1);

      const received = receiveWith(stream, scratch, capabilities);
      expect({ code: received.code, stderr: received.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(await describeTree(received.snapshot)).toBe(await describeTree(source));

      // What btrfs receive reports without each; CAP_FSETID's loss is silent: the set-group-ID bit is gone.
      const expected: Record<string, RegExp> = {
        CAP_SYS_ADMIN: /trusted\.drill.*Operation not permitted/,
        CAP_DAC_OVERRIDE: /alice.*Permission denied/,
        CAP_FOWNER: /(chmod|utimes) .*Operation not permitted/,
        CAP_CHOWN: /chown .*Operation not permitted/,
        CAP_MKNOD: /mknod .*Operation not permitted/,
        CAP_SETFCAP: /security\.capability.*Operation not permitted/,
        CAP_SYS_CHROOT: /failed to chroot/,
      };
      for (const missing of capabilities) {
        const without = receiveWith(
          stream,
          scratch,
          capabilities.filter((cap) => cap !== missing),
        );
        const message = expected[missing];
        if (message === undefined) {
          expect({ missing, sgid: (await describeTree(without.snapshot)).split('\n').find((line) => line.startsWith('./sgid ')) }).toEqual({
            missing: 'CAP_FSETID',
            sgid: './sgid -rwxr-xr-x 0 100',
          });
        } else {
          expect({ missing, failed: without.code !== 0, stderr: without.stderr }).toEqual({
            missing,
            failed: true,
            stderr: expect.stringMatching(message),
          });
        }
      }
    });
  });
});
