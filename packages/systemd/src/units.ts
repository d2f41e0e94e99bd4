export interface UnitOptions {
  /** Absolute path of the `btrfs-to-s3` executable the service runs. */
  readonly execPath: string;
  /** Absolute path of the config file (default /etc/btrfs-to-s3/config.toml). */
  readonly configPath?: string;
  /** Daily start time, 24-hour HH:MM local time (the config's schedule.run_at). */
  readonly runAt?: string;
}

export interface RenderedUnits {
  readonly 'btrfs-to-s3.service': string;
  readonly 'btrfs-to-s3.timer': string;
}

export const DEFAULT_CONFIG_PATH = '/etc/btrfs-to-s3/config.toml';

/** systemd quotes arguments containing spaces with double quotes. */
function quote(arg: string): string {
  return /[\s"\\]/.test(arg) ? `"${arg.replace(/(["\\])/g, '\\$1')}"` : arg;
}

/** The oneshot service and its daily timer, with paths rendered for this install. */
export function renderUnits(options: UnitOptions): RenderedUnits {
  const configPath = options.configPath ?? DEFAULT_CONFIG_PATH;
  const runAt = options.runAt ?? '02:00';
  const service = `[Unit]
Description=btrfs-to-s3 backup of Btrfs subvolumes to S3
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${quote(options.execPath)} backup --config ${quote(configPath)}
# A full upload of terabytes over a home uplink can take days.
TimeoutStartSec=7d
Nice=10
IOSchedulingClass=idle
CPUSchedulingPolicy=batch
`;
  const timer = `[Unit]
Description=Daily btrfs-to-s3 backup

[Timer]
OnCalendar=*-*-* ${runAt}:00
Persistent=true
RandomizedDelaySec=15min

[Install]
WantedBy=timers.target
`;
  return { 'btrfs-to-s3.service': service, 'btrfs-to-s3.timer': timer };
}
