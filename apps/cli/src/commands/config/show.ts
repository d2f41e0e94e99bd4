import { type Config, redactValue, secretsFromEnv } from '@org/btrfs-s3-core';
import { stringify } from 'smol-toml';
import { BaseCommand } from '@org/btrfs-s3-command';

export default class ConfigShow extends BaseCommand {
  static override summary = 'Print the effective configuration: file, defaults and environment overrides, secrets redacted.';
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --json'];
  static override enableJsonFlag = true;

  async run(): Promise<Config> {
    const { flags } = await this.parse(ConfigShow);
    const { config } = await this.context(flags);
    const shown = redactValue(config, secretsFromEnv(process.env));
    this.log(stringify(shown).trimEnd());
    return shown;
  }
}
