import { Flags } from '@oclif/core';
import { planUninstall, type UnitAction } from '@org/btrfs-s3-systemd';
import { resolve } from 'node:path';
import { BaseCommand } from '@org/btrfs-s3-command';
import { dryRunFlag, unitDirFlag } from './install';

export interface SystemdUninstallResult {
  readonly dryRun: boolean;
  readonly unitDir: string;
  /** In order; empty when nothing was installed. */
  readonly actions: readonly UnitAction[];
}

export default class SystemdUninstall extends BaseCommand {
  static override summary =
    'Remove the daily backup: stop and disable the timer, delete both unit files (and the drill units, if installed).';
  static override description =
    'Runs `systemctl disable --now btrfs-to-s3.timer`, removes btrfs-to-s3.service and btrfs-to-s3.timer, then `systemctl daemon-reload`. When `systemd install --drill` installed them, it disables btrfs-to-s3-drill.timer the same way and removes it and btrfs-to-s3-drill.service too. A backup or drill already running finishes. Snapshots, state and the bucket are left alone. Reads no config, so it works with a broken or deleted one.';
  static override examples = ['<%= config.bin %> systemd uninstall', '<%= config.bin %> systemd uninstall --dry-run'];
  static override enableJsonFlag = true;
  static override flags = {
    'unit-dir': unitDirFlag,
    enable: Flags.boolean({
      summary: 'Disable the timers and reload systemd; --no-enable only removes the files.',
      default: true,
      allowNo: true,
    }),
    'dry-run': dryRunFlag,
  };

  async run(): Promise<SystemdUninstallResult> {
    const { carryOut } = await import('../systemd-units.js');
    const { flags } = await this.parse(SystemdUninstall);
    const unitDir = resolve(flags['unit-dir']);
    const actions = await planUninstall({ unitDir, enable: flags.enable });
    const dryRun = flags['dry-run'];
    if (actions.length === 0) this.log(`nothing to remove: no btrfs-to-s3 units in ${unitDir}`);
    else await carryOut(actions, dryRun, (line) => this.log(line));
    return { dryRun, unitDir, actions };
  }
}
