/**
 * The btrfs-to-s3 oclif app. Other teams extend it with oclif plugins, whose commands
 * extend BaseCommand from @org/btrfs-s3-command (docs/plugins.md); it is re-exported here
 * for plugins written against this entry before that package existed.
 */
export { BaseCommand, DEFAULT_CONFIG_PATH } from '@org/btrfs-s3-command';
export type { CommandContext } from '@org/btrfs-s3-command';
export type { ConfigValidateResult } from './commands/config/validate';
