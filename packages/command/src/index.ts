/**
 * @org/btrfs-s3-command: the base class of every btrfs-to-s3 command. The CLI's own
 * commands and its plugins' (docs/plugins.md) extend `BaseCommand`: the `--config`,
 * `--log-level` and `--log-format` flags, the config loaded and checked, the logger, and
 * one mapping from the project's errors to its exit codes (docs/exit-codes.md).
 */
export { BaseCommand, DEFAULT_CONFIG_PATH } from './base-command';
export type { CommandContext } from './base-command';
