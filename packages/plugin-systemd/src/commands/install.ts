import { Flags } from '@oclif/core';
import {
  DAEMON_RELOAD,
  DEFAULT_UNIT_DIR,
  DRILL_SERVICE_NAME,
  DRILL_TIMER_NAME,
  drillRunAt,
  ENABLE_DRILL_TIMER,
  ENABLE_TIMER,
  planInstall,
  RANDOMIZED_DELAY,
  SERVICE_NAME,
  type UnitAction,
  type UnitFiles,
} from '@org/btrfs-s3-systemd';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BaseCommand } from '@org/btrfs-s3-command';

export interface SystemdInstallResult {
  readonly dryRun: boolean;
  readonly unitDir: string;
  readonly execPath: string;
  readonly configPath: string;
  /** The backup service and timer; with --drill, the drill service and timer too. */
  readonly units: UnitFiles;
  /** In order; with --dry-run, what a real run would do. */
  readonly actions: readonly UnitAction[];
}

/** Flags `systemd uninstall` shares, so both read the same. */
export const unitDirFlag = Flags.string({ summary: 'Directory of the unit files.', default: DEFAULT_UNIT_DIR });
export const dryRunFlag = Flags.boolean({ summary: 'Print what would be done and change nothing.', default: false });
/** `systemd show` shares it. */
export const drillFlag = Flags.boolean({
  summary: `Also the monthly restore drill: ${DRILL_SERVICE_NAME} (drill --sample 1) and ${DRILL_TIMER_NAME}; needs drill.scratch_dir, a directory on Btrfs.`,
  default: false,
});

export default class SystemdInstall extends BaseCommand {
  static override summary = 'Install the daily backup: a sandboxed oneshot service and its timer; --drill adds a monthly restore drill.';
  static override description = `Writes ${SERVICE_NAME} and btrfs-to-s3.timer, rendered for this executable, the --config file and the paths in it, then runs \`systemctl daemon-reload\` and \`systemctl enable --now btrfs-to-s3.timer\`. Creates the writable directories the config names when missing: the sandbox cannot create them. Install again after changing paths in the config. With --drill, also ${DRILL_SERVICE_NAME}, running \`drill --sample 1\` (every chain restored into drill.scratch_dir, verified and deleted; archived chains sampled, one chunk per backup), and ${DRILL_TIMER_NAME}, firing on the 1st of each month 12 hours after schedule.run_at; refused with exit 2, before anything is written, unless drill.scratch_dir is an existing directory on Btrfs.`;
  static override examples = [
    '<%= config.bin %> systemd install',
    '<%= config.bin %> systemd install --dry-run',
    '<%= config.bin %> systemd install --drill',
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
    drill: drillFlag,
    'dry-run': dryRunFlag,
  };

  async run(): Promise<SystemdInstallResult> {
    const { carryOut, unitsForThisInstall } = await import('../systemd-units.js');
    const { flags } = await this.parse(SystemdInstall);
    const { config, logger } = await this.context(flags);
    const prepared = await unitsForThisInstall(config, flags.config, { root: this.config.root, bin: this.config.pjson.bin }, logger, {
      drill: flags.drill,
    });
    const unitDir = resolve(flags['unit-dir']);
    if (!flags.drill && existsSync(join(unitDir, DRILL_SERVICE_NAME))) {
      logger.warn(
        `${DRILL_SERVICE_NAME} in ${unitDir} was left as it is, rendered for the config it was installed with; install with --drill to render it for this one, or \`systemd uninstall\` removes both`,
      );
    }
    const actions = await planInstall({ unitDir, units: prepared.units, directories: prepared.directories, enable: flags.enable });
    const dryRun = flags['dry-run'];
    await carryOut(actions, dryRun, (line) => this.log(line));
    if (!dryRun) {
      if (!flags.enable) {
        const enable = [ENABLE_TIMER, ...(flags.drill ? [ENABLE_DRILL_TIMER] : [])].map((command) => command.join(' '));
        this.log(`not enabled; to start the ${flags.drill ? 'timers' : 'timer'}: ${[DAEMON_RELOAD.join(' '), ...enable].join(' && ')}`);
      } else {
        this.log(
          `the timer starts a backup daily at ${config.schedule.run_at} (plus up to ${RANDOMIZED_DELAY}); \`systemctl start ${SERVICE_NAME}\` runs one now, \`journalctl -u ${SERVICE_NAME}\` shows its log`,
        );
        if (flags.drill) {
          this.log(
            `the drill timer starts a restore drill on the 1st of each month at ${drillRunAt(config.schedule.run_at)} (plus up to ${RANDOMIZED_DELAY}); \`systemctl start ${DRILL_SERVICE_NAME}\` runs one now, \`journalctl -u ${DRILL_SERVICE_NAME}\` shows its log`,
          );
        }
      }
    }
    return { dryRun, unitDir, execPath: prepared.execPath, configPath: prepared.configPath, units: prepared.units, actions };
  }
}
