import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type winston from 'winston';
import type { Env } from '../config/env';
import type { LOG_LEVELS } from '../config/schema';
import { redactEntry, secretsFromEnv } from './redact';

/**
 * winston takes tens of milliseconds to load, and `--help` or `--version` never log:
 * it is loaded with the first logger, not with this package.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadWinston = (): Winston => require('winston') as Winston;
type Winston = typeof winston;

export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['human', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where lines go; stderr by default, so stdout stays for command output. */
  readonly stream?: Writable;
  /** Used to find secrets to redact and `JOURNAL_STREAM`; defaults to process.env. */
  readonly env?: Env;
  /** Colour level names; by default as NO_COLOR, FORCE_COLOR and whether the stream is a terminal say (wantsColor). */
  readonly color?: boolean;
}

/**
 * Colour or not, as users of well-loved CLIs expect: `NO_COLOR` set and not empty turns
 * it off (no-color.org), else `FORCE_COLOR` set and not `0` or `false` turns it on, else
 * a terminal gets colour and anything else does not.
 */
export function wantsColor(env: Env, stream: Writable): boolean {
  if ((env.NO_COLOR ?? '') !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return 'isTTY' in stream && stream.isTTY === true;
}

/**
 * Whether `stream` is the journal's. systemd sets JOURNAL_STREAM to the device and inode
 * (`<dev>:<ino>`) of the stream it connected, and asks a program to use the journal's
 * conventions only when its own output is that stream (systemd.exec(5)): a command run
 * from a unit with its stderr redirected to a file or pipe inherits the variable too.
 */
export function writesToJournal(env: Env, stream: Writable): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  const fd = (stream as { fd?: unknown }).fd;
  if (match === null || typeof fd !== 'number') return false;
  try {
    const stats = fstatSync(fd, { bigint: true });
    return stats.dev === BigInt(match[1] ?? '') && stats.ino === BigInt(match[2] ?? '');
  } catch {
    return false;
  }
}

/** sd-daemon(3) priority prefixes, so journald files each line under its level. */
const JOURNAL_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

function journalPriority(level: unknown): number {
  const priorities: Readonly<Record<string, number>> = JOURNAL_PRIORITY;
  return (typeof level === 'string' ? priorities[level] : undefined) ?? JOURNAL_PRIORITY.info;
}

const SPLAT = Symbol.for('splat');
const LEVEL = Symbol.for('level');

function fields(info: winston.Logform.TransformableInfo): string {
  const rest = Object.entries(info).filter(([key]) => key !== 'level' && key !== 'message' && key !== 'timestamp');
  return rest.map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join('');
}

function redactFormat(winston: Winston, secrets: readonly string[]) {
  return winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key !== 'level') info[key] = redactEntry(key, info[key], secrets);
    }
    delete info[SPLAT];
    return info;
  })();
}

/**
 * The one logger factory. Human lines on a terminal, JSON on request, and under
 * systemd (when the stream is the one `JOURNAL_STREAM` names) human lines carrying
 * journald priority prefixes.
 */
export function createLogger(options: LoggerOptions): winston.Logger {
  const winston = loadWinston();
  const env = options.env ?? process.env;
  const stream = options.stream ?? process.stderr;
  const secrets = secretsFromEnv(env);
  const journald = writesToJournal(env, stream);
  const color = options.color ?? wantsColor(env, stream);

  let line: winston.Logform.Format;
  if (options.format === 'json') {
    line = winston.format.combine(winston.format.timestamp(), winston.format.json());
  } else if (journald) {
    // journald adds its own timestamps.
    line = winston.format.printf((info) => `<${journalPriority(info[LEVEL])}>${String(info.message)}${fields(info)}`);
  } else {
    line = winston.format.combine(
      winston.format.timestamp({ format: 'HH:mm:ss' }),
      ...(color ? [winston.format.colorize({ level: true })] : []),
      winston.format.printf((info) => `${String(info.timestamp)} ${info.level} ${String(info.message)}${fields(info)}`),
    );
  }
  return winston.createLogger({
    level: options.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format.combine(winston.format.errors({ stack: false }), redactFormat(winston, secrets), line),
    transports: [new winston.transports.Stream({ stream })],
  });
}

export type Logger = winston.Logger;

/** A logger that writes nothing: what the library functions use when their caller gives none. */
export function silentLogger(): winston.Logger {
  const winston = loadWinston();
  return winston.createLogger({
    silent: true,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    transports: [new winston.transports.Console({ silent: true })],
  });
}
