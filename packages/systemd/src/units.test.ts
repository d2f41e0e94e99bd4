import { parseConfig } from '@org/btrfs-s3-core';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExitCode } from '@org/btrfs-s3-core';
import { ScratchDirError } from './errors';
import { UnitValueError } from './quote';
import { SANDBOX_DIRECTIVES } from './sandbox';
import { renderDrillUnits, renderUnits, type UnitOptions } from './units';

const execFileAsync = promisify(execFile);

/** The README's example host, with every path the sandbox is rendered from set explicitly. */
function config(
  overrides: { global?: Record<string, string>; run_at?: string; base_dir?: string; paths?: readonly string[]; scratch_dir?: string } = {},
) {
  const global = {
    state_path: '/var/lib/btrfs-to-s3/state.json',
    lock_path: '/var/lock/btrfs_to_s3.lock',
    metrics_path: '/var/lib/btrfs-to-s3/metrics.json',
    spool_dir: '/srv/spool',
    ...overrides.global,
  };
  return parseConfig(`
[global]
${Object.entries(global)
  .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)
  .join('\n')}
[schedule]
run_at = "${overrides.run_at ?? '02:00'}"
[snapshots]
base_dir = ${JSON.stringify(overrides.base_dir ?? '/srv/.snapshots')}
[subvolumes]
paths = ${JSON.stringify(overrides.paths ?? ['/srv/data', '/home'])}
[s3]
bucket = "example-backups"
region = "eu-central-1"
prefix = "proxmox1"
${overrides.scratch_dir === undefined ? '' : `[drill]\nscratch_dir = ${JSON.stringify(overrides.scratch_dir)}\n`}`);
}

const render = (options: Partial<UnitOptions> = {}) =>
  renderUnits({ execPath: '/usr/local/bin/btrfs-to-s3', config: config(), ...options });
const service = (options: Partial<UnitOptions> = {}) => render(options)['btrfs-to-s3.service'];
/** The values of `directive` in a unit, one per line it appears on. */
const values = (unit: string, directive: string) =>
  unit
    .split('\n')
    .filter((line) => line.startsWith(`${directive}=`))
    .map((line) => line.slice(directive.length + 1));

describe('renderUnits: the service', () => {
  it('runs backup once with the config file, quoting paths with spaces and escaping % and $', () => {
    const unit = service({ execPath: '/opt/btrfs to s3/bin/run.js', configPath: '/etc/b s3/100%/$HOME.toml' });
    expect(unit).toContain('\nType=oneshot\n');
    expect(values(unit, 'ExecStart')).toEqual(['"/opt/btrfs to s3/bin/run.js" backup --config "/etc/b s3/100%%/$$HOME.toml"']);
  });

  it('uses /etc/btrfs-to-s3/config.toml when no config path is given', () => {
    expect(values(service(), 'ExecStart')).toEqual(['/usr/local/bin/btrfs-to-s3 backup --config /etc/btrfs-to-s3/config.toml']);
  });

  it('grants write access to the snapshot, state, lock, metrics, textfile and spool directories only', () => {
    const unit = service({ config: config({ global: { prometheus_textfile: '/var/lib/node exporter/btrfs.prom' } }) });
    expect(values(unit, 'ReadWritePaths')).toEqual([
      '-/srv/.snapshots -/var/lib/btrfs-to-s3 -/var/lock "-/var/lib/node exporter" -/srv/spool',
    ]);
    expect(values(unit, 'ProtectSystem')).toEqual(['strict']);
    expect(values(unit, 'ProtectHome')).toEqual(['read-only']);
  });

  it('makes a lock directory directly under /run the RuntimeDirectory (root-only, made at every start), not a writable path', () => {
    const unit = service({ config: config({ global: { lock_path: '/run/btrfs-to-s3/lock' } }) });
    expect(values(unit, 'RuntimeDirectory')).toEqual(['btrfs-to-s3']);
    expect(values(unit, 'RuntimeDirectoryMode')).toEqual(['0700']);
    expect(values(unit, 'ReadWritePaths')[0]).not.toContain('/run');
    expect(values(unit, 'RequiresMountsFor')[0]).not.toContain('/run');
    expect(service()).not.toContain('RuntimeDirectory'); // a lock elsewhere is a writable path, as before
  });

  it('keeps the subvolumes read-only, but waits for them and every writable path to be mounted', () => {
    const unit = service();
    expect(values(unit, 'ReadWritePaths')[0]).not.toMatch(/\/srv\/data|\/home/);
    expect(values(unit, 'RequiresMountsFor')).toEqual(['/srv/.snapshots /var/lib/btrfs-to-s3 /var/lock /srv/spool /srv/data /home']);
  });

  it('leaves paths under /tmp and /var/tmp out of ReadWritePaths: the service has private ones', () => {
    const unit = service({ config: config({ global: { spool_dir: '/var/tmp/btrfs_to_s3/spool', state_path: '/tmp/state.json' } }) });
    expect(values(unit, 'ReadWritePaths')).toEqual(['-/srv/.snapshots -/var/lock -/var/lib/btrfs-to-s3']);
    expect(values(unit, 'PrivateTmp')).toEqual(['yes']);
  });

  it('bounds the capabilities to what a backup needs, and leaves V8 its writable-executable memory', () => {
    const unit = service();
    expect(values(unit, 'CapabilityBoundingSet')).toEqual(['CAP_SYS_ADMIN CAP_DAC_READ_SEARCH CAP_FOWNER']);
    expect(values(unit, 'NoNewPrivileges')).toEqual(['yes']);
    expect(values(unit, 'MemoryDenyWriteExecute')).toEqual([]);
    expect(values(unit, 'SystemCallFilter')).toEqual(['@system-service @pkey', '~@privileged @resources']);
    expect(values(unit, 'RestrictAddressFamilies')).toEqual(['AF_UNIX AF_INET AF_INET6 AF_NETLINK']);
  });

  it('runs at low CPU and I/O priority with no start timeout', () => {
    const unit = service();
    expect(values(unit, 'Nice')).toEqual(['19']);
    expect(values(unit, 'CPUSchedulingPolicy')).toEqual(['batch']);
    expect(values(unit, 'IOSchedulingClass')).toEqual(['idle']);
    expect(values(unit, 'TimeoutStartSec')).toEqual(['infinity']);
  });

  it('counts the exit codes of an interrupted run (130 SIGINT, 143 SIGTERM) as success, so a shutdown mid-backup is no failed unit', () => {
    expect(values(service(), 'SuccessExitStatus')).toEqual(['130 143']);
  });

  it('puts node first on PATH when systemd would not find it, and leaves PATH alone when it would', () => {
    expect(values(service({ nodeDir: '/root/.nvm/versions/node/v20.19.0/bin' }), 'Environment')).toEqual([
      'PATH=/root/.nvm/versions/node/v20.19.0/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    expect(values(service({ nodeDir: '/usr/bin' }), 'Environment')).toEqual([]);
  });

  it('makes the writable directories non-executable, except one that holds the executable', () => {
    expect(values(service(), 'NoExecPaths')).toEqual(['-/srv/.snapshots -/var/lib/btrfs-to-s3 -/var/lock -/srv/spool']);
    expect(values(service({ execPath: '/srv/spool/bin/btrfs-to-s3' }), 'NoExecPaths')).toEqual([
      '-/srv/.snapshots -/var/lib/btrfs-to-s3 -/var/lock',
    ]);
    expect(values(service({ nodeDir: '/var/lib/btrfs-to-s3/node/bin' }), 'NoExecPaths')).toEqual([
      '-/srv/.snapshots -/var/lock -/srv/spool',
    ]);
  });

  it('refuses relative paths and paths it cannot write into a unit', () => {
    expect(() => service({ execPath: 'bin/run.js' })).toThrow(UnitValueError);
    expect(() => service({ configPath: 'config.toml' })).toThrow(/configPath must be an absolute path/);
    expect(() => service({ configPath: '/etc/a"b.toml' })).toThrow(/double quote, backslash or control character/);
    expect(() => service({ config: config({ base_dir: '/srv/new\nline' }) })).toThrow(UnitValueError);
  });
});

describe('renderUnits: the timer', () => {
  it('fires daily at 02:00 local time by default, persistently, with a randomized delay', () => {
    const timer = render()['btrfs-to-s3.timer'];
    expect(values(timer, 'OnCalendar')).toEqual(['*-*-* 02:00:00']);
    expect(values(timer, 'Persistent')).toEqual(['true']);
    expect(values(timer, 'RandomizedDelaySec')).toEqual(['30min']);
    expect(values(timer, 'WantedBy')).toEqual(['timers.target']);
  });

  it('fires at schedule.run_at', () => {
    expect(values(render({ config: config({ run_at: '03:30' }) })['btrfs-to-s3.timer'], 'OnCalendar')).toEqual(['*-*-* 03:30:00']);
  });

  it('refuses a run_at that is not HH:MM', () => {
    expect(() => render({ config: { ...config(), schedule: { ...config().schedule, run_at: '3:30' } } })).toThrow(/HH:MM/);
  });
});

const drill = (options: Partial<UnitOptions> = {}) =>
  renderDrillUnits({ execPath: '/usr/local/bin/btrfs-to-s3', config: config({ scratch_dir: '/srv/.drill' }), ...options });
const drillService = (options: Partial<UnitOptions> = {}) => drill(options)['btrfs-to-s3-drill.service'];
const drillTimer = (options: Partial<UnitOptions> = {}) => drill(options)['btrfs-to-s3-drill.timer'];
/** `directive=value` lines of a unit's [Service] section, in order. */
const serviceLines = (unit: string) =>
  unit
    .slice(unit.indexOf('[Service]'))
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line));

describe('renderDrillUnits: the drill service', () => {
  it('runs drill --sample 1 once with the config file, quoted like the backup service', () => {
    const unit = drillService({ execPath: '/opt/btrfs to s3/bin/run.js', configPath: '/etc/b s3/100%/$HOME.toml' });
    expect(unit).toContain('\nType=oneshot\n');
    expect(values(unit, 'ExecStart')).toEqual(['"/opt/btrfs to s3/bin/run.js" drill --config "/etc/b s3/100%%/$$HOME.toml" --sample 1']);
    expect(values(drillService(), 'ExecStart')).toEqual([
      '/usr/local/bin/btrfs-to-s3 drill --config /etc/btrfs-to-s3/config.toml --sample 1',
    ]);
    expect(values(unit, 'SyslogIdentifier')).toEqual(['btrfs-to-s3-drill']);
  });

  it('treats an interrupted drill (130, 143) as the backup service does, and starts after a backup due at the same time', () => {
    const unit = drillService();
    expect(values(unit, 'SuccessExitStatus')).toEqual(['130 143']);
    expect(values(unit, 'After')).toEqual(['network-online.target btrfs-to-s3.service']);
    expect(values(unit, 'TimeoutStartSec')).toEqual(['infinity']);
    expect(values(unit, 'IOSchedulingClass')).toEqual(['idle']);
  });

  it('may write the scratch directory and the metrics directories, but not the snapshots it compares with', () => {
    const unit = drillService({
      config: config({ scratch_dir: '/srv/.drill', global: { prometheus_textfile: '/var/lib/node exporter/btrfs.prom' } }),
    });
    expect(values(unit, 'ReadWritePaths')).toEqual(['-/srv/.drill -/var/lib/btrfs-to-s3 "-/var/lib/node exporter"']);
    expect(values(unit, 'NoExecPaths')).toEqual(['-/srv/.drill -/var/lib/btrfs-to-s3 "-/var/lib/node exporter"']);
    expect(values(unit, 'RequiresMountsFor')).toEqual(['/srv/.drill /var/lib/btrfs-to-s3 "/var/lib/node exporter" /srv/.snapshots']);
    expect(values(unit, 'ProtectSystem')).toEqual(['strict']);
  });

  it("keeps the backup service's sandbox, but with btrfs receive's capabilities, chown, chroot, mknod and set-user-ID bits", () => {
    const unit = drillService();
    expect(values(unit, 'CapabilityBoundingSet')).toEqual([
      'CAP_SYS_ADMIN CAP_DAC_OVERRIDE CAP_FOWNER CAP_CHOWN CAP_FSETID CAP_MKNOD CAP_SETFCAP CAP_SYS_CHROOT',
    ]);
    expect(values(unit, 'SystemCallFilter')).toEqual(['@system-service @pkey', '~@privileged @resources', '@chown chroot']);
    expect(values(unit, 'PrivateDevices')).toEqual([]);
    expect(values(unit, 'DevicePolicy')).toEqual(['closed']);
    expect(values(unit, 'DeviceAllow')).toEqual(['char-* m', 'block-* m']);
    expect(values(unit, 'RestrictSUIDSGID')).toEqual([]);
    const changed = ['CapabilityBoundingSet', 'SystemCallFilter', 'PrivateDevices', 'DevicePolicy', 'DeviceAllow', 'RestrictSUIDSGID'];
    const sandbox = (lines: string[]) =>
      lines.filter(
        (line) =>
          SANDBOX_DIRECTIVES.some(([directive]) => line.startsWith(`${directive}=`)) && !changed.some((d) => line.startsWith(`${d}=`)),
      );
    expect(sandbox(serviceLines(unit))).toEqual(sandbox(serviceLines(service())));
    expect(sandbox(serviceLines(unit)).length).toBeGreaterThan(15);
  });

  it('refuses a config without drill.scratch_dir with exit 2, naming the key and that it must be on Btrfs', () => {
    const render = () => renderDrillUnits({ execPath: '/usr/local/bin/btrfs-to-s3', config: config() });
    expect(render).toThrow(ScratchDirError);
    expect(render).toThrow(/^drill\.scratch_dir is not set: .*an existing directory on Btrfs/);
    expect(() => render()).toThrow(expect.objectContaining({ exitCode: ExitCode.Usage }));
  });

  it('refuses a scratch directory under /tmp or /var/tmp, which the service would see only as its private, empty one', () => {
    expect(() => drill({ config: config({ scratch_dir: '/var/tmp/drill' }) })).toThrow(
      /drill\.scratch_dir \/var\/tmp\/drill is under \/tmp or \/var\/tmp/,
    );
  });
});

describe('renderDrillUnits: the drill timer', () => {
  it('fires monthly, on the 1st, 12 hours after schedule.run_at, persistently, with the same randomized delay', () => {
    const timer = drillTimer();
    expect(values(timer, 'OnCalendar')).toEqual(['*-*-01 14:00:00']);
    expect(values(timer, 'Persistent')).toEqual(['true']);
    expect(values(timer, 'RandomizedDelaySec')).toEqual(['30min']);
    expect(values(timer, 'WantedBy')).toEqual(['timers.target']);
    expect(values(timer, 'Description')).toEqual(['Monthly btrfs-to-s3 restore drill']);
  });

  it('wraps past midnight', () => {
    expect(values(drillTimer({ config: config({ run_at: '15:45', scratch_dir: '/srv/.drill' }) }), 'OnCalendar')).toEqual([
      '*-*-01 03:45:00',
    ]);
    expect(values(drillTimer({ config: config({ run_at: '12:00', scratch_dir: '/srv/.drill' }) }), 'OnCalendar')).toEqual([
      '*-*-01 00:00:00',
    ]);
  });
});

describe('systemd-analyze verify', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  /** Writes the units and an executable for ExecStart= under a directory whose name needs quoting and escaping. */
  async function install(): Promise<{ dir: string; options: UnitOptions }> {
    const dir = await mkdtemp(join(tmpdir(), 'units-'));
    dirs.push(dir);
    // %n is a specifier and $HOME a variable: both must reach systemd escaped to name this directory.
    const binDir = join(dir, 'bin %n $HOME');
    await mkdir(binDir);
    const execPath = join(binDir, 'btrfs-to-s3');
    await copyFile(join(__dirname, '..', 'package.json'), execPath);
    await chmod(execPath, 0o755);
    return {
      dir,
      options: {
        execPath,
        configPath: join(binDir, 'config 100%.toml'),
        nodeDir: join(dir, 'node dir'),
        config: config({ base_dir: `${dir}/snap shots`, scratch_dir: '/srv/drill scratch 100%' }),
      },
    };
  }

  /** systemd-analyze exits 0 on some parse warnings, so its stderr counts too; lines about other units are not ours. */
  async function verify(dir: string, units: Record<string, string>): Promise<{ code: number; ours: string[] }> {
    const paths = await Promise.all(
      Object.entries(units).map(async ([name, text]) => {
        await writeFile(join(dir, name), text);
        return join(dir, name);
      }),
    );
    const result = await execFileAsync('systemd-analyze', ['verify', ...paths]).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    return { code: result.code, ours: result.stderr.split('\n').filter((line) => line.includes('btrfs-to-s3') || line.includes(dir)) };
  }

  it('passes without a warning about our units', async () => {
    const { dir, options } = await install();
    await expect(verify(dir, { ...renderUnits(options) })).resolves.toEqual({ code: 0, ours: [] });
  });

  it('passes the drill units, with the backup units they are ordered after, without a warning', async () => {
    const { dir, options } = await install();
    await expect(verify(dir, { ...renderUnits(options), ...renderDrillUnits(options) })).resolves.toEqual({ code: 0, ours: [] });
  });

  it('is strict enough that a misspelt drill directive fails it', async () => {
    const { dir, options } = await install();
    const units = renderDrillUnits(options);
    const broken = {
      ...units,
      'btrfs-to-s3-drill.service': units['btrfs-to-s3-drill.service'].replace('DevicePolicy=closed', 'DevicePolicy=shut'),
    };
    expect((await verify(dir, broken)).ours.join('\n')).toMatch(/Failed to parse device policy/);
  });

  it('is strict enough that a misspelt value fails it', async () => {
    const { dir, options } = await install();
    const units = renderUnits(options);
    const broken = { ...units, 'btrfs-to-s3.service': units['btrfs-to-s3.service'].replace('Type=oneshot', 'Type=oneshoot') };
    expect((await verify(dir, broken)).ours.join('\n')).toMatch(/Failed to parse service type/);
  });

  it('checks the ExecStart= executable, so the escaped path above was resolved to the real file', async () => {
    const { dir, options } = await install();
    const result = await verify(dir, { ...renderUnits({ ...options, execPath: join(dir, 'bin %n $HOME', 'missing') }) });
    expect(result.code).not.toBe(0);
    expect(result.ours.join('\n')).toMatch(/is not executable: No such file or directory/);
  });
});
