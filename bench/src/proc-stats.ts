// Memory and CPU of one process, read from /proc the way `ps` and `top` do, so the scale
// run can sample the uploader every second without tracing it.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ProcUsage {
  /** VmRSS: resident now. */
  readonly rssBytes: number;
  /** VmHWM: the most it was resident at any moment, between samples too. */
  readonly peakRssBytes: number;
  /** utime + stime of the process itself (not of its children). */
  readonly cpuSeconds: number;
}

function statusField(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s*(\\d+)\\s*kB$`, 'm').exec(text);
  if (match?.[1] === undefined) throw new Error(`/proc status has no ${name}`);
  return Number(match[1]) * 1024;
}

/** RSS and its high-water mark from /proc/PID/status. */
export function parseStatus(text: string): Pick<ProcUsage, 'rssBytes' | 'peakRssBytes'> {
  return { rssBytes: statusField(text, 'VmRSS'), peakRssBytes: statusField(text, 'VmHWM') };
}

/** utime + stime (fields 14 and 15) of /proc/PID/stat, in seconds. */
export function parseStatCpu(text: string, ticksPerSecond: number): number {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc stat line: "${text.slice(0, 80)}"`);
  return (utime + stime) / ticksPerSecond;
}

/** USER_HZ, the unit of /proc's CPU times (100 on every common Linux). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** The process's usage now; undefined once it has exited. */
export async function readUsage(pid: number, ticksPerSecond: number): Promise<ProcUsage | undefined> {
  try {
    const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    // A zombie has no memory left to report.
    if (!/^VmRSS:/m.test(status)) return undefined;
    return { ...parseStatus(status), cpuSeconds: parseStatCpu(stat, ticksPerSecond) };
  } catch (error) {
    // Not `instanceof Error`: errors from node:fs may come from another realm (jest's).
    const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
}
