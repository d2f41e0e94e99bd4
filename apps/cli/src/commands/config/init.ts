import { Flags } from '@oclif/core';
import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BaseCommand } from '@org/btrfs-s3-command';
import { configTemplate } from '../../config-template';

export interface ConfigInitResult {
  readonly path: string;
}

export default class ConfigInit extends BaseCommand {
  static override summary = 'Write a commented config template: every key, the required ones filled with examples.';
  static override description =
    'Writes to --output, or to the --config path (default /etc/btrfs-to-s3/config.toml), with mode 0600, creating its directory. Refuses a file that exists unless --force. Edit the template, then run `config validate`.';
  static override examples = [
    '<%= config.bin %> config init',
    '<%= config.bin %> config init --output ./config.toml',
    '<%= config.bin %> config init --print',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    output: Flags.string({ char: 'o', summary: 'Where to write the template (default: the --config path).', exclusive: ['print'] }),
    force: Flags.boolean({ summary: 'Replace a file that exists.', default: false }),
    print: Flags.boolean({ summary: 'Print the template to stdout; write nothing.', default: false }),
  };

  async run(): Promise<ConfigInitResult | { readonly template: string }> {
    const { flags } = await this.parse(ConfigInit);
    const template = configTemplate();
    if (flags.print) {
      if (!this.jsonEnabled()) process.stdout.write(template);
      return { template };
    }
    const path = resolve(flags.output ?? flags.config);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    try {
      await writeFile(path, template, { mode: 0o600, flag: flags.force ? 'w' : 'wx' });
      // The mode applies only to a new file; one replaced with --force gets it too.
      await chmod(path, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new BtrfsToS3Error(`${path} exists; pass --force to replace it, or --output another path`, { exitCode: ExitCode.Usage });
      throw error;
    }
    this.log(`wrote ${path}: edit [snapshots], [subvolumes] and [s3], then run \`btrfs-to-s3 config validate --config ${path}\``);
    return { path };
  }
}
