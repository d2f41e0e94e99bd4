import { isAbsolute } from 'node:path';
import { drillServicePaths, isWithin, servicePaths, type UnitConfig } from './paths';
import { quoteArgument, quoteEnvironment, quoteExecutable, quotePath, UnitValueError } from './quote';
import { DRILL_DROPPED_DIRECTIVES, DRILL_SANDBOX_DIRECTIVES, REFUSED_DIRECTIVES, SANDBOX_DIRECTIVES } from './sandbox';
import { scratchDirOf } from './scratch';

/** The oneshot service that runs `backup`. */
export const SERVICE_NAME = 'btrfs-to-s3.service';
/** The daily timer that starts the service. */
export const TIMER_NAME = 'btrfs-to-s3.timer';
/** The oneshot service that runs `drill --sample 1` (installed by `systemd install --drill`). */
export const DRILL_SERVICE_NAME = 'btrfs-to-s3-drill.service';
/** The monthly timer that starts the drill service. */
export const DRILL_TIMER_NAME = 'btrfs-to-s3-drill.timer';
/** The config the service reads unless the install names another (the CLI's `--config` default). */
export const DEFAULT_CONFIG_PATH = '/etc/btrfs-to-s3/config.toml';
/** Where administrators' units go; `install --unit-dir` overrides it. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/**
 * The PATH systemd gives services (plus /sbin and /bin, where btrfs-progs lives on
 * systems without merged /usr). btrfs is found on it; so is node when installed there.
 */
export const SYSTEMD_DEFAULT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

/** Spreads the start of many hosts backing up to one bucket or over one uplink; the drill timer's too. */
export const RANDOMIZED_DELAY = '30min';

/**
 * The drill timer fires on the 1st of each month this many hours after `schedule.run_at`,
 * so it does not start while that day's backup is usually running. (Its service is
 * also ordered after the backup service: a drill due while a backup runs waits for it.)
 */
export const DRILL_HOURS_AFTER_BACKUP = 12;

/** What the units are rendered for: this install, its config file, and that file's content. */
export interface UnitOptions {
  /** Absolute path of the `btrfs-to-s3` executable the service runs. */
  readonly execPath: string;
  /** Absolute path of the config file (default /etc/btrfs-to-s3/config.toml). */
  readonly configPath?: string;
  /** The loaded config: the timer's time and the sandbox's paths come from it. */
  readonly config: UnitConfig;
  /**
   * Directory of the node binary that should run the executable (its `#!/usr/bin/env node`
   * finds node on PATH). When it is not on systemd's default PATH (nvm, a tarball in
   * /opt), the service gets a PATH with it first.
   */
  readonly nodeDir?: string;
}

/** The text of each unit file, by file name. */
export interface RenderedUnits {
  /** The service unit. */
  readonly [SERVICE_NAME]: string;
  /** The timer unit. */
  readonly [TIMER_NAME]: string;
}

/** The text of the drill's unit files, by file name. */
export interface RenderedDrillUnits {
  /** The drill service unit. */
  readonly [DRILL_SERVICE_NAME]: string;
  /** The drill timer unit. */
  readonly [DRILL_TIMER_NAME]: string;
}

/** The files an install writes: the backup units, and the drill units when asked for. */
export type UnitFiles = RenderedUnits & Partial<RenderedDrillUnits>;

/** Splits `text` at spaces into lines of at most `width` characters (longer words stay whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path)) throw new UnitValueError(path, `${what} must be an absolute path`);
  return path;
}

function environmentLines(nodeDir: string | undefined): string[] {
  if (nodeDir === undefined || SYSTEMD_DEFAULT_PATH.some((dir) => dir === nodeDir)) return [];
  return [`Environment=${quoteEnvironment('PATH', [absolute(nodeDir, 'nodeDir'), ...SYSTEMD_DEFAULT_PATH].join(':'))}`];
}

function checkedRunAt(config: UnitConfig): string {
  const runAt = config.schedule.run_at;
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(runAt)) throw new UnitValueError(runAt, 'schedule.run_at must be 24-hour HH:MM');
  return runAt;
}

/** What differs between the backup service and the drill service. */
interface ServiceKind {
  readonly name: string;
  readonly installCommand: string;
  readonly description: string;
  /** Units to start after when both are due. */
  readonly after: readonly string[];
  /** The CLI command ExecStart= runs, and its arguments after `--config`. */
  readonly command: string;
  readonly args: readonly string[];
  readonly syslogIdentifier: string;
  /** The comment lines that introduce the sandbox, without `# `. */
  readonly sandboxComment: readonly string[];
  readonly refused: readonly string[];
  readonly sandbox: readonly (readonly [string, string])[];
  /** ReadWritePaths=, RequiresMountsFor= and RuntimeDirectory=. */
  readonly paths: { readonly writable: readonly string[]; readonly mounts: readonly string[]; readonly runtime?: readonly string[] };
}

function renderService(options: UnitOptions, kind: ServiceKind): string {
  const execPath = absolute(options.execPath, 'execPath');
  const configPath = absolute(options.configPath ?? DEFAULT_CONFIG_PATH, 'configPath');
  const { paths } = kind;
  // Nothing the service can write may be executed, except where this install itself lives.
  const noExec = paths.writable.filter(
    (dir) => !isWithin(execPath, dir) && (options.nodeDir === undefined || !isWithin(options.nodeDir, dir)),
  );
  const list = (entries: readonly string[], ignoreMissing: boolean) => entries.map((path) => quotePath(path, { ignoreMissing })).join(' ');

  return [
    `# Rendered by \`btrfs-to-s3 ${kind.installCommand}\` from ${configPath}.`,
    '# Install it again after changing paths in the config: ReadWritePaths= and',
    '# RequiresMountsFor= come from them. Local changes belong in a drop-in',
    `# (systemctl edit ${kind.name}).`,
    '[Unit]',
    `Description=${kind.description}`,
    'Wants=network-online.target',
    `After=${['network-online.target', ...kind.after].join(' ')}`,
    // A catch-up run right after boot (Persistent=true) must not start before the disks are mounted.
    ...(paths.mounts.length === 0 ? [] : [`RequiresMountsFor=${list(paths.mounts, false)}`]),
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${[quoteExecutable(execPath), kind.command, '--config', quoteArgument(configPath), ...kind.args.map(quoteArgument)].join(' ')}`,
    ...environmentLines(options.nodeDir),
    // Journal lines would otherwise be tagged "node".
    `SyslogIdentifier=${kind.syslogIdentifier}`,
    // A first full of a few TiB over a home uplink takes more than a week; a start timeout
    // would kill it and every retry from zero. Hangs are bounded by the tool's own S3
    // timeouts instead, and the "no successful backup" alert catches what remains.
    'TimeoutStartSec=infinity',
    // A stop or shutdown mid-run ends it by SIGTERM: the tool rolls back and exits 143
    // (130 for SIGINT). That is not a failed backup; the next run continues.
    'SuccessExitStatus=130 143',
    'Nice=19',
    'CPUSchedulingPolicy=batch',
    'IOSchedulingClass=idle',
    '',
    ...kind.sandboxComment.map((line) => `# ${line}`),
    ...wrap(`${kind.refused.join(', ')}.`, 86).map((line) => `#   ${line}`),
    ...kind.sandbox.map(([directive, value]) => `${directive}=${value}`),
    // `-`: a directory missing at start (the run creates it) must not fail the whole unit.
    ...(paths.writable.length === 0 ? [] : [`ReadWritePaths=${list(paths.writable, true)}`]),
    // The lock's root-only directory under /run, made at every start (/run is emptied at boot),
    // and kept when the service stops: a manual run may hold its lock there meanwhile.
    ...(paths.runtime === undefined || paths.runtime.length === 0
      ? []
      : [`RuntimeDirectory=${paths.runtime.join(' ')}`, 'RuntimeDirectoryMode=0700', 'RuntimeDirectoryPreserve=yes']),
    // The release's V8 compile cache (docs/release.md, "Start-up"); /var/cache is read-only otherwise.
    'CacheDirectory=btrfs-to-s3',
    'CacheDirectoryMode=0700',
    ...(noExec.length === 0 ? [] : [`NoExecPaths=${list(noExec, true)}`]),
    '',
  ].join('\n');
}

function renderTimer(description: string, onCalendar: string): string {
  return [
    '[Unit]',
    `Description=${description}`,
    '',
    '[Timer]',
    // Local time, as systemd reads OnCalendar= without a time zone.
    `OnCalendar=${onCalendar}`,
    // A run missed while the machine was off starts at the next boot.
    'Persistent=true',
    `RandomizedDelaySec=${RANDOMIZED_DELAY}`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** The oneshot backup service and its daily timer, with paths rendered for this install and config. */
export function renderUnits(options: UnitOptions): RenderedUnits {
  const runAt = checkedRunAt(options.config);
  const service = renderService(options, {
    name: SERVICE_NAME,
    installCommand: 'systemd install',
    description: 'btrfs-to-s3 backup of Btrfs subvolumes to S3',
    after: [],
    command: 'backup',
    args: [],
    syslogIdentifier: 'btrfs-to-s3',
    sandboxComment: ['Sandbox: packages/systemd/README.md says why each line is there, and why these are not:'],
    refused: REFUSED_DIRECTIVES,
    sandbox: SANDBOX_DIRECTIVES,
    paths: servicePaths(options.config),
  });
  return { [SERVICE_NAME]: service, [TIMER_NAME]: renderTimer('Daily btrfs-to-s3 backup', `*-*-* ${runAt}:00`) };
}

/** The drill's time of day, HH:MM: DRILL_HOURS_AFTER_BACKUP hours after `runAt` (HH:MM), wrapping past midnight. */
export function drillRunAt(runAt: string): string {
  const [hours = '0', minutes = '00'] = runAt.split(':');
  return `${String((Number(hours) + DRILL_HOURS_AFTER_BACKUP) % 24).padStart(2, '0')}:${minutes}`;
}

/** The drill timer's OnCalendar=: the 1st of each month at drillRunAt(runAt). */
export function drillCalendar(runAt: string): string {
  return `*-*-01 ${drillRunAt(runAt)}:00`;
}

/**
 * The monthly restore drill: a oneshot service running `drill --sample 1` (every chain
 * restored into `drill.scratch_dir`, verified and deleted; archived chains sampled
 * instead) in the backup service's sandbox widened for `btrfs receive`, and its timer.
 * Throws a ScratchDirError when the config sets no `drill.scratch_dir`.
 */
export function renderDrillUnits(options: UnitOptions): RenderedDrillUnits {
  const runAt = checkedRunAt(options.config);
  const scratchDir = absolute(scratchDirOf(options.config), 'drill.scratch_dir');
  const service = renderService(options, {
    name: DRILL_SERVICE_NAME,
    installCommand: 'systemd install --drill',
    description: 'btrfs-to-s3 restore drill: restore each backup chain into drill.scratch_dir, verify it, delete it',
    // A drill due while a backup runs (or both due at once, at a boot catching up) waits for the backup.
    after: [SERVICE_NAME],
    command: 'drill',
    args: ['--sample', '1'],
    syslogIdentifier: 'btrfs-to-s3-drill',
    sandboxComment: [
      "Sandbox: the backup service's, widened for btrfs receive. packages/systemd/README.md",
      'says why each line is there, and why these are not:',
    ],
    refused: [...REFUSED_DIRECTIVES, ...DRILL_DROPPED_DIRECTIVES],
    sandbox: DRILL_SANDBOX_DIRECTIVES,
    paths: drillServicePaths(options.config, scratchDir),
  });
  return { [DRILL_SERVICE_NAME]: service, [DRILL_TIMER_NAME]: renderTimer('Monthly btrfs-to-s3 restore drill', drillCalendar(runAt)) };
}
