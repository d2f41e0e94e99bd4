import { subvolumeName } from '@org/btrfs-s3-core';
import { BaseCommand } from '@org/btrfs-s3-command';

export interface ConfigValidateResult {
  readonly valid: true;
  readonly path: string;
  readonly subvolumes: readonly string[];
}

export default class ConfigValidate extends BaseCommand {
  static override summary = 'Check the config file and environment overrides; report every problem at once.';
  static override description = 'Exits 0 when the configuration is valid, 2 (usage/config error) otherwise, naming each bad key.';
  static override examples = ['<%= config.bin %> config validate --config /etc/btrfs-to-s3/config.toml'];
  static override enableJsonFlag = true;

  async run(): Promise<ConfigValidateResult> {
    const { flags } = await this.parse(ConfigValidate);
    const { config } = await this.context(flags);
    const subvolumes = config.subvolumes.paths.map(subvolumeName);
    this.log(`${flags.config}: valid (${subvolumes.length} subvolume${subvolumes.length === 1 ? '' : 's'}: ${subvolumes.join(', ')})`);
    return { valid: true, path: flags.config, subvolumes };
  }
}
