/**
 * Writing paths into unit files. systemd splits values on whitespace, honours double
 * quotes, expands `%` specifiers in every value below, and expands `$VAR` in command
 * arguments (not in the executable path). A path survives that when whitespace is
 * quoted, `%` is doubled, and, in arguments, `$` is doubled.
 */

/** A value that cannot be written into a unit file unchanged. */
export class UnitValueError extends Error {
  constructor(
    /** The value as given. */
    readonly value: string,
    reason: string,
  ) {
    super(`cannot write ${JSON.stringify(value)} into a systemd unit: ${reason}`);
    this.name = 'UnitValueError';
  }
}

// Quotes and backslashes unescape differently per directive (ExecStart= takes C escapes,
// path lists do not), and control characters end the line: refused rather than guessed.
const UNWRITABLE = /["\\\p{Cc}]/u;

type Context = 'executable' | 'argument' | 'path' | 'environment';

function quote(value: string, context: Context): string {
  if (value === '') throw new UnitValueError(value, 'it is empty');
  if (UNWRITABLE.test(value)) throw new UnitValueError(value, 'it contains a double quote, backslash or control character');
  let escaped = value.replace(/%/g, '%%');
  if (context === 'argument') escaped = escaped.replace(/\$/g, '$$$$');
  return /\s|'/.test(escaped) ? `"${escaped}"` : escaped;
}

/** The executable of an ExecStart= line. */
export const quoteExecutable = (path: string): string => quote(path, 'executable');

/** An argument of an ExecStart= line. */
export const quoteArgument = (arg: string): string => quote(arg, 'argument');

/** One entry of a path list (ReadWritePaths=, RequiresMountsFor=, ...); `ignoreMissing` adds systemd's `-` prefix. */
export function quotePath(path: string, options: { ignoreMissing?: boolean } = {}): string {
  return quote(`${options.ignoreMissing === true ? '-' : ''}${path}`, 'path');
}

/** An `Environment=` assignment. */
export const quoteEnvironment = (name: string, value: string): string => quote(`${name}=${value}`, 'environment');
