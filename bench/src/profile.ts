// Where our process spends its time, from V8 CPU profiles (`node --cpu-prof`): self time
// per category (idle = waiting on I/O: the gateway, the pipe, the disk) and the functions
// with the most self time. The results page shows it for failing targets' runs.
import { basename } from 'node:path';

/** The parts of a .cpuprofile file this needs. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Of all sampled time, idle included. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Profiles merged: the main thread and any worker threads. */
  readonly threads: number;
  readonly totalMs: number;
  readonly categories: readonly Share[];
  /** Functions with the most self time, idle excluded. */
  readonly top: readonly Share[];
}

export const CATEGORY = {
  idle: 'idle (waiting on I/O)',
  gc: 'garbage collection',
  program: 'V8 and native code outside JS ((program))',
  native: 'native functions called from JS (hashing, copies, syscalls)',
  node: 'Node.js internals (streams, net, fs, crypto)',
  sdk: 'AWS SDK (@aws-sdk, @smithy)',
  oclif: 'oclif',
  deps: 'other dependencies',
  ours: 'btrfs-to-s3 code',
} as const;

type Frame = CpuProfile['nodes'][number]['callFrame'];

export function categorize(frame: Frame): string {
  const { functionName: name, url } = frame;
  if (name === '(idle)') return CATEGORY.idle;
  if (name === '(garbage collector)') return CATEGORY.gc;
  if (name === '(program)' || name === '(root)') return CATEGORY.program;
  if (url === '') return CATEGORY.native;
  if (url.startsWith('node:')) return CATEGORY.node;
  if (/\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(@aws-sdk|@smithy|@aws-crypto)\//.test(url)) return CATEGORY.sdk;
  if (/\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?@oclif\//.test(url)) return CATEGORY.oclif;
  if (url.includes('/node_modules/')) return CATEGORY.deps;
  return CATEGORY.ours;
}

/** "digest (native)", "splitStream split.js:42 (@org/btrfs-s3-store)", "readableAddChunk node:internal/streams/readable:302". */
export function frameName(frame: Frame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name.startsWith('(') ? name : `${name} (native)`;
  const line = frame.lineNumber + 1;
  if (frame.url.startsWith('node:')) return `${name} ${frame.url}:${line}`;
  const packageName =
    /\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(frame.url)?.[1] ??
    /\/(packages|apps)\/([^/]+)\//.exec(frame.url)?.[2];
  return `${name} ${basename(frame.url)}:${line}${packageName === undefined ? '' : ` (${packageName})`}`;
}

/** Self time per sample: the time until the next sample (the last one gets the mean). */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  const n = profile.samples.length;
  const mean = n > 1 ? profile.timeDeltas.slice(1).reduce((a, b) => a + b, 0) / (n - 1) : 0;
  for (let i = 0; i < n; i++) {
    const id = profile.samples[i] as number;
    const micros = i + 1 < n ? (profile.timeDeltas[i + 1] ?? 0) : mean;
    times.set(id, (times.get(id) ?? 0) + micros);
  }
  return times;
}

export function summarizeProfiles(profiles: readonly CpuProfile[], topN = 10): ProfileSummary {
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    for (const [id, micros] of selfTimes(profile)) {
      const frame = frames.get(id);
      if (frame === undefined) continue;
      const ms = micros / 1000;
      total += ms;
      const category = categorize(frame);
      byCategory.set(category, (byCategory.get(category) ?? 0) + ms);
      if (category !== CATEGORY.idle) byFunction.set(frameName(frame), (byFunction.get(frameName(frame)) ?? 0) + ms);
    }
  }
  const shares = (map: Map<string, number>) =>
    [...map.entries()].map(([name, ms]) => ({ name, ms, share: total === 0 ? 0 : ms / total })).sort((a, b) => b.ms - a.ms);
  return { threads: profiles.length, totalMs: total, categories: shares(byCategory), top: shares(byFunction).slice(0, topN) };
}
