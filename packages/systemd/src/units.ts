import { isAbsolute } from 'node:path';
import { isWithin, servicePaths, type UnitConfig } from './paths';
import { quoteArgument, quoteEnvironment, quoteExecutable, quotePath, UnitValueError } from './quote';
import { REFUSED_DIRECTIVES, SANDBOX_DIRECTIVES } from './sandbox';

/** The oneshot service that runs `backup`. */
export const SERVICE_NAME = 'btrfs-to-s3.service';
/** The daily timer that starts the service. */
export const TIMER_NAME = 'btrfs-to-s3.timer';
/** The config the service reads unless the install names another (the CLI's `--config` default). */
export const DEFAULT_CONFIG_PATH = '/etc/btrfs-to-s3/config.toml';
/** Where administrators' units go; `install --unit-dir` overrides it. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/**
 * The PATH systemd gives services (plus /sbin and /bin, where btrfs-progs lives on
 * systems without merged /usr). btrfs is found on it; so is node when installed there.
 */
export const SYSTEMD_DEFAULT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

/** Spreads the start of many hosts backing up to one bucket or over one uplink. */
export const RANDOMIZED_DELAY = '30min';

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

/** The oneshot backup service and its daily timer, with paths rendered for this install and config. */
export function renderUnits(options: UnitOptions): RenderedUnits {
  const execPath = absolute(options.execPath, 'execPath');
  const configPath = absolute(options.configPath ?? DEFAULT_CONFIG_PATH, 'configPath');
  const runAt = options.config.schedule.run_at;
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(runAt)) throw new UnitValueError(runAt, 'schedule.run_at must be 24-hour HH:MM');
  const paths = servicePaths(options.config);
  // Nothing the service can write may be executed, except where this install itself lives.
  const noExec = paths.writable.filter(
    (dir) => !isWithin(execPath, dir) && (options.nodeDir === undefined || !isWithin(options.nodeDir, dir)),
  );
  const list = (entries: readonly string[], ignoreMissing: boolean) => entries.map((path) => quotePath(path, { ignoreMissing })).join(' ');

  const service = [
    `# Rendered by \`btrfs-to-s3 systemd install\` from ${configPath}.`,
    '# Install it again after changing paths in the config: ReadWritePaths= and',
    '# RequiresMountsFor= come from them. Local changes belong in a drop-in',
    `# (systemctl edit ${SERVICE_NAME}).`,
    '[Unit]',
    'Description=btrfs-to-s3 backup of Btrfs subvolumes to S3',
    'Wants=network-online.target',
    'After=network-online.target',
    // A catch-up run right after boot (Persistent=true) must not start before the disks are mounted.
    ...(paths.mounts.length === 0 ? [] : [`RequiresMountsFor=${list(paths.mounts, false)}`]),
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${quoteExecutable(execPath)} backup --config ${quoteArgument(configPath)}`,
    ...environmentLines(options.nodeDir),
    // Journal lines would otherwise be tagged "node".
    'SyslogIdentifier=btrfs-to-s3',
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
    '# Sandbox: packages/systemd/README.md says why each line is there, and why these are not:',
    ...wrap(`${REFUSED_DIRECTIVES.join(', ')}.`, 86).map((line) => `#   ${line}`),
    ...SANDBOX_DIRECTIVES.map(([directive, value]) => `${directive}=${value}`),
    // `-`: a directory missing at start (the run creates it) must not fail the whole unit.
    ...(paths.writable.length === 0 ? [] : [`ReadWritePaths=${list(paths.writable, true)}`]),
    ...(noExec.length === 0 ? [] : [`NoExecPaths=${list(noExec, true)}`]),
    '',
  ].join('\n');

  const timer = [
    '[Unit]',
    'Description=Daily btrfs-to-s3 backup',
    '',
    '[Timer]',
    // Local time, as systemd reads OnCalendar= without a time zone.
    `OnCalendar=*-*-* ${runAt}:00`,
    // A run missed while the machine was off starts at the next boot.
    'Persistent=true',
    `RandomizedDelaySec=${RANDOMIZED_DELAY}`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');

  return { [SERVICE_NAME]: service, [TIMER_NAME]: timer };
}
