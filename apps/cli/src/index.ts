/** The btrfs-to-s3 oclif app. Other teams extend it with oclif plugins; this entry exports the shared base command. */
export { BaseCommand, DEFAULT_CONFIG_PATH } from './base-command';
export type { CommandContext } from './base-command';
export type { ConfigValidateResult } from './commands/config/validate';
