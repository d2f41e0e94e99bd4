import { Args, Command, loadHelpClass } from '@oclif/core';

/**
 * `btrfs-to-s3 help [COMMAND]`: oclif's own Help class (or the one the CLI configures)
 * behind a command. This is what @oclif/plugin-help contains; the plugin exports only
 * its index, so a bundle cannot import its command, and loading it as a plugin costs
 * a second copy of oclif at every start (docs/dependencies.md).
 */
export default class HelpCommand extends Command {
  static override summary = 'Display help for btrfs-to-s3.';
  static override args = { command: Args.string({ required: false, description: 'Command to show help for.' }) };
  static override strict = false;

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const Help = await loadHelpClass(this.config);
    await new Help(this.config, this.config.pjson.oclif.helpOptions ?? {}).showHelp(argv as string[]);
  }
}
