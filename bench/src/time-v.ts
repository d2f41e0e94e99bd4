// Parses what GNU time (`/usr/bin/time -v -o FILE cmd`) writes: one "Key: value" line per
// measure, preceded by "Command exited with non-zero status N" or "Command terminated by
// signal N" when the command did not succeed.
import type { ProcessUsage } from './results';

export interface TimeV extends ProcessUsage {
  readonly exitStatus: number;
  /** The signal that ended the command, if one did. */
  readonly signal?: number;
}

const KEYS = {
  user: 'User time (seconds)',
  system: 'System time (seconds)',
  wall: 'Elapsed (wall clock) time (h:mm:ss or m:ss)',
  rss: 'Maximum resident set size (kbytes)',
  exit: 'Exit status',
} as const;

/** "1:02:03.5" (h:mm:ss), "2:03.45" (m:ss) or "3.2" to seconds. */
export function parseClock(text: string): number {
  const parts = text.trim().split(':');
  if (parts.length > 3 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part))) throw new Error(`not a time -v clock value: "${text}"`);
  return parts.reduce((seconds, part) => seconds * 60 + Number(part), 0);
}

export function parseTimeV(text: string): TimeV {
  const fields = new Map<string, string>();
  let signal: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const terminated = /^Command terminated by signal (\d+)$/.exec(line);
    if (terminated?.[1] !== undefined) signal = Number(terminated[1]);
    const colon = line.indexOf(': ');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
  }
  const field = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`time -v output has no "${key}" line:\n${text.slice(0, 500)}`);
    return value;
  };
  const number = (key: string): number => {
    const value = Number(field(key));
    if (!Number.isFinite(value)) throw new Error(`time -v: "${key}" is not a number: "${field(key)}"`);
    return value;
  };
  return {
    userSeconds: number(KEYS.user),
    systemSeconds: number(KEYS.system),
    wallSeconds: parseClock(field(KEYS.wall)),
    maxRssKiB: number(KEYS.rss),
    exitStatus: number(KEYS.exit),
    ...(signal === undefined ? {} : { signal }),
  };
}

/** User plus system CPU seconds. */
export function cpuSeconds(usage: ProcessUsage): number {
  return usage.userSeconds + usage.systemSeconds;
}
