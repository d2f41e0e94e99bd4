// The machine a run measured: the results page names it, since only ratios from one run
// on one machine mean anything.
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { Machine } from './results';
import { sh } from './exec';
import { AWS } from './tools';

async function firstLine(command: string): Promise<string> {
  try {
    return (await sh(command)).stdout.split('\n')[0]?.trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

async function osName(): Promise<string> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

async function cpuModel(): Promise<string> {
  try {
    const text = await readFile('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

export async function describeMachine(): Promise<Omit<Machine, 'loadAverage'>> {
  return {
    cpuModel: await cpuModel(),
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: release(),
    os: await osName(),
    node: process.version,
    btrfsProgs: await firstLine('btrfs --version'),
    awscli: (await firstLine(`${AWS} --version`)).split(' ')[0] ?? 'unknown',
    rclone: await firstLine('rclone version'),
    ceph: (await firstLine('radosgw --version')).replace(/\s*\([0-9a-f]{40}\)/, ''),
  };
}

export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}
