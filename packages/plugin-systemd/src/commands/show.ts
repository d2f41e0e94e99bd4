import type { UnitFiles } from '@org/btrfs-s3-systemd';
import { BaseCommand } from '@org/btrfs-s3-command';
import { drillFlag } from './install';

export interface SystemdShowResult {
  readonly execPath: string;
  readonly configPath: string;
  /** The backup service and timer; with --drill, the drill service and timer too. */
  readonly units: UnitFiles;
}

export default class SystemdShow extends BaseCommand {
  static override summary = 'Print the service and timer units, rendered for this install and config.';
  static override description =
    'The same units `systemd install` writes: ExecStart runs this executable with --config, the timer fires at schedule.run_at, and the sandbox may write only the directories the config names. With --drill, also the monthly drill service and timer (which need drill.scratch_dir, a directory on Btrfs). Changes nothing.';
  static override examples = [
    '<%= config.bin %> systemd show',
    '<%= config.bin %> systemd show --drill',
    '<%= config.bin %> systemd show --json',
  ];
  static override enableJsonFlag = true;
  static override flags = { drill: drillFlag };

  async run(): Promise<SystemdShowResult> {
    const { unitsForThisInstall } = await import('../systemd-units.js');
    const { flags } = await this.parse(SystemdShow);
    const { config, logger } = await this.context(flags);
    const prepared = await unitsForThisInstall(config, flags.config, { root: this.config.root, bin: this.config.pjson.bin }, logger, {
      drill: flags.drill,
    });
    for (const [name, text] of Object.entries(prepared.units)) this.log(`# ${name}\n${text}`);
    return { execPath: prepared.execPath, configPath: prepared.configPath, units: prepared.units };
  }
}
