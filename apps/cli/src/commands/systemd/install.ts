import { Flags } from '@oclif/core';
import {
  DEFAULT_UNIT_DIR,
  ENABLE_TIMER,
  DAEMON_RELOAD,
  planInstall,
  RANDOMIZED_DELAY,
  type RenderedUnits,
  SERVICE_NAME,
  type UnitAction,
} from '@org/btrfs-s3-systemd';
import { resolve } from 'node:path';
import { BaseCommand } from '../../base-command';
import { carryOut, unitsForThisInstall } from '../../systemd-units';

export interface SystemdInstallResult {
  readonly dryRun: boolean;
  readonly unitDir: string;
  readonly execPath: string;
  readonly configPath: string;
  readonly units: RenderedUnits;
  /** In order; with --dry-run, what a real run would do. */
  readonly actions: readonly UnitAction[];
}

/** Flags `systemd uninstall` shares, so both read the same. */
export const unitDirFlag = Flags.string({ summary: 'Directory of the unit files.', default: DEFAULT_UNIT_DIR });
export const dryRunFlag = Flags.boolean({ summary: 'Print what would be done and change nothing.', default: false });

export default class SystemdInstall extends BaseCommand {
  static override summary = 'Install the daily backup: a sandboxed oneshot service and its timer.';
  static override description = `Writes ${SERVICE_NAME} and btrfs-to-s3.timer, rendered for this executable, the --config file and the paths in it, then runs \`systemctl daemon-reload\` and \`systemctl enable --now btrfs-to-s3.timer\`. Creates the writable directories the config names when missing: the sandbox cannot create them. Install again after changing paths in the config.`;
  static override examples = [
    '<%= config.bin %> systemd install',
    '<%= config.bin %> systemd install --dry-run',
    '<%= config.bin %> systemd install --config /etc/btrfs-to-s3/nas.toml --no-enable',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    'unit-dir': unitDirFlag,
    enable: Flags.boolean({
      summary: 'Reload systemd, then enable and start the timer; --no-enable only writes the files.',
      default: true,
      allowNo: true,
    }),
    'dry-run': dryRunFlag,
  };

  async run(): Promise<SystemdInstallResult> {
    const { flags } = await this.parse(SystemdInstall);
    const { config, logger } = await this.context(flags);
    const prepared = await unitsForThisInstall(config, flags.config, this.config.root, logger);
    const unitDir = resolve(flags['unit-dir']);
    const actions = await planInstall({ unitDir, units: prepared.units, directories: prepared.directories, enable: flags.enable });
    const dryRun = flags['dry-run'];
    await carryOut(actions, dryRun, (line) => this.log(line));
    if (!dryRun) {
      this.log(
        flags.enable
          ? `the timer starts a backup daily at ${config.schedule.run_at} (plus up to ${RANDOMIZED_DELAY}); \`systemctl start ${SERVICE_NAME}\` runs one now, \`journalctl -u ${SERVICE_NAME}\` shows its log`
          : `not enabled; to start the timer: ${DAEMON_RELOAD.join(' ')} && ${ENABLE_TIMER.join(' ')}`,
      );
    }
    return { dryRun, unitDir, execPath: prepared.execPath, configPath: prepared.configPath, units: prepared.units, actions };
  }
}
