import { readFile } from 'node:fs/promises';
import { errnoCode } from '../errors';

/**
 * Tells whether a PID is running, and which process it is: the start time (in
 * clock ticks since boot, /proc/PID/stat field 22) distinguishes a live holder
 * from an unrelated process that reused a dead holder's PID.
 */
export interface ProcessProbe {
  /** The process start time, or undefined when no process has this PID. */
  startTime(pid: number): Promise<string | undefined>;
}

export const procfsProbe: ProcessProbe = {
  async startTime(pid) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ESRCH') return undefined;
      throw error;
    }
    // The command name (field 2) is in parentheses and may contain spaces; count after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall: starttime
  },
};
