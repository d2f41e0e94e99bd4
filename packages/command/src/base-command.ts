import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import {
  BtrfsToS3Error,
  type Config,
  ConfigError,
  createLogger,
  ExitCode,
  exitCodeOf as domainExitCodeOf,
  loadConfig,
  loadRemoteConfig,
  LOG_FORMATS,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  redactText,
  redactValue,
  type RemoteConfig,
  type S3Flags,
  secretsFromEnv,
} from '@org/btrfs-s3-core';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';

export const DEFAULT_CONFIG_PATH = '/etc/btrfs-to-s3/config.toml';

type BaseFlags = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags']>;

export interface CommandContext<C = Config> {
  readonly config: C;
  readonly logger: Logger;
}

/** Whether oclif filled a flag from its default (the user gave neither the flag nor its environment variable). */
interface ParseMetadata {
  readonly flags: Readonly<Record<string, { readonly setFromDefault?: boolean } | undefined>>;
}

/**
 * Every command's shared flags, logger and error handling. Domain errors carry
 * their exit code (core's ExitCode table); this is the one place that maps them.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Path of the TOML config file.',
      default: DEFAULT_CONFIG_PATH,
      env: 'BTRFS_TO_S3_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.option({ options: LOG_LEVELS, summary: 'Log level; overrides global.log_level.', helpGroup: 'GLOBAL' })(),
    'log-format': Flags.option({
      options: LOG_FORMATS,
      default: 'human' as const,
      summary: 'Log line format (logs go to stderr).',
      helpGroup: 'GLOBAL',
    })(),
  };

  private logger?: Logger;

  /** Loads and validates the config, then builds the logger at the effective level. */
  /** The config (file, environment, then `overrides` from the command's own flags) and the logger. */
  protected async context(flags: BaseFlags, overrides: S3Flags = {}): Promise<CommandContext> {
    this.logger = this.makeLogger(flags, flags['log-level'] ?? 'info');
    const config = await loadConfig(flags.config, process.env, overrides);
    this.logger = this.makeLogger(flags, flags['log-level'] ?? config.global.log_level);
    return { config, logger: this.logger };
  }

  /**
   * For `restore`, `list` and `verify`, which need only the S3 location: the config
   * file if one was named or the default exists, else none, then the environment, then
   * the location flags. A new host can restore with no config file at all.
   */
  protected async remoteContext(flags: BaseFlags, metadata: ParseMetadata, location: S3Flags): Promise<CommandContext<RemoteConfig>> {
    this.logger = this.makeLogger(flags, flags['log-level'] ?? 'info');
    const defaulted = metadata.flags.config?.setFromDefault === true;
    const path = defaulted && !existsSync(flags.config) ? undefined : flags.config;
    const config = await loadRemoteConfig(path, process.env, location);
    this.logger = this.makeLogger(flags, flags['log-level'] ?? config.global.log_level);
    return { config, logger: this.logger };
  }

  /**
   * Where log lines go: stderr. A command that draws on stderr itself (a progress bar)
   * returns a stream that prints them above what it draws.
   */
  protected logStream(): Writable {
    return process.stderr;
  }

  private makeLogger(flags: BaseFlags, level: LogLevel): Logger {
    return createLogger({ level, format: flags['log-format'], stream: this.logStream() });
  }

  protected override toErrorJson(error: unknown): unknown {
    const secrets = secretsFromEnv(process.env);
    const message = redactText(error instanceof Error ? error.message : String(error), secrets);
    return {
      error: {
        name: error instanceof Error ? error.name : 'Error',
        message,
        exitCode: exitCodeOf(error),
        // Issues quote the bad values, which may be a credential put in the wrong place.
        ...(error instanceof ConfigError ? { issues: redactValue(error.issues, secrets) } : {}),
      },
    };
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    // Flag and argument errors from oclif's parser keep oclif's usage output; they quote
    // what was typed, which may be a credential pasted into the wrong argument.
    if (!(error instanceof BtrfsToS3Error) && error instanceof Errors.CLIError) {
      error.message = redactText(error.message, secretsFromEnv(process.env));
      return super.catch(error);
    }
    const exitCode = exitCodeOf(error);
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(error));
    } else {
      const logger = this.logger ?? createLogger({ level: 'info', format: 'human', stream: this.logStream() });
      logger.error(error.message);
      if (!(error instanceof BtrfsToS3Error)) logger.debug(error.stack ?? '');
    }
    return this.exit(exitCode);
  }
}

function exitCodeOf(error: unknown): number {
  if (!(error instanceof BtrfsToS3Error) && error instanceof Errors.CLIError) return error.oclif.exit ?? ExitCode.Usage;
  return domainExitCodeOf(error);
}
