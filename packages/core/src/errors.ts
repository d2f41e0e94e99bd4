import { ExitCode } from './exit-codes';
import { type ConfigIssue, formatIssue } from './config/issues';

/** Base of every error the tool expects; the CLI exits with `exitCode`. */
export class BtrfsToS3Error extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, options: { exitCode: ExitCode; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode;
  }
}

/** The configuration (file, environment or flags) is invalid. Lists every problem. */
export class ConfigError extends BtrfsToS3Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source?: string) {
    const where = source === undefined ? '' : ` in ${source}`;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`invalid configuration${where} (${count}):\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`, {
      exitCode: ExitCode.Usage,
    });
    this.issues = issues;
  }
}

/**
 * The exit code a failure ends the process with: a BtrfsToS3Error's own, else 1. When
 * `signal` was aborted with one of ours (SIGINT, SIGTERM), that one wins over whatever
 * error the abort surfaced as, as the CLI reports it.
 */
export function exitCodeOf(error: unknown, signal?: AbortSignal): number {
  if (signal?.aborted === true && signal.reason instanceof BtrfsToS3Error) return signal.reason.exitCode;
  return error instanceof BtrfsToS3Error ? error.exitCode : ExitCode.Fatal;
}

/** The `code` of a Node system error (`ENOENT`, `EACCES`, ...), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  // Not `instanceof Error`: errors from another realm (a jest sandbox) fail that test.
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** The run was stopped by a signal; what was in progress was rolled back. */
export class InterruptedError extends BtrfsToS3Error {
  constructor(
    readonly signal: string,
    /** What the rollback guarantees; the default is a backup's. */
    outcome = 'work in progress was rolled back and the previous backup stays current',
  ) {
    // 128 + the signal's number, as a shell reports a process the signal killed; the unit's
    // SuccessExitStatus= lists them, so a shutdown during a backup is not a failed unit.
    const exitCode = signal === 'SIGINT' ? ExitCode.Interrupted : signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Fatal;
    super(`interrupted by ${signal}; ${outcome}`, { exitCode });
  }
}

/** Archived objects are not readable yet; a later run of the same restore continues. */
export class ThawPendingError extends BtrfsToS3Error {
  constructor(
    readonly ready: number,
    readonly total: number,
    detail: string,
  ) {
    super(`${ready} of ${total} archived objects are readable; ${detail}`, { exitCode: ExitCode.RestorePending });
  }
}
