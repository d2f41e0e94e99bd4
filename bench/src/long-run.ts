// pnpm bench:scale: streams --size bytes (default 50 GiB) through the chunked uploader into
// a local S3 sink, with the uploader alone in a child process whose RSS and CPU are
// sampled every second; then pairs of short runs (the main run's parts, and small ones)
// to split CPU into per-byte and per-part cost; then a paper model of 5 TiB from the
// measured costs. Prints the report (Markdown) on stdout and progress on stderr.
//
// Exit status: 0 pass; 1 when RSS is not flat within 10% after the warm-up, when peak RSS
// exceeds concurrency x part size + 100 MiB, or when a run fails; 2 for bad arguments;
// 128 + the signal's number when interrupted (130 for SIGINT, 143 for SIGTERM). Everything it starts (the sink, the uploader and its source)
// is stopped before it exits, whichever way it ends; it writes no files but --json.
import { writeFile } from 'node:fs/promises';
import { constants, cpus, loadavg, release, totalmem } from 'node:os';
import { UsageError } from './args';
import { Interrupted } from './exec';
import { clockTicksPerSecond } from './proc-stats';
import { analyse } from './scale-analysis';
import { parseScaleArgs, SCALE_USAGE } from './scale-args';
import { sinkConfig } from './scale-config';
import { renderReport } from './scale-report';
import { type RunRecord, runUpload, type RunSpec } from './scale-run';
import type { Sample } from './scale-stats';

const GiB = 2 ** 30;
const mibOf = (bytes: number) => bytes / 2 ** 20;
const log = (line: string) => process.stderr.write(`bench:scale: ${line}\n`);

function describeMachine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg().map((value) => value.toFixed(2));
  return `${cpu}, ${cpus().length} cores, ${(totalmem() / GiB).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}; load average ${load.join(' ')} at the start`;
}

function progress(label: string): (sample: Sample) => void {
  let next = 0;
  return (sample) => {
    if (sample.t < next) return;
    next = sample.t + 15;
    log(
      `${label}: ${sample.t.toFixed(0)} s, ${(sample.bytes / GiB).toFixed(1)} GiB sent, RSS ${(sample.rssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${sample.cpuSeconds.toFixed(0)} s`,
    );
  };
}

async function run(spec: RunSpec, signal: AbortSignal, ticksPerSecond: number): Promise<RunRecord> {
  log(
    `${spec.label}: ${(spec.sizeBytes / GiB).toFixed(1)} GiB in ${spec.partSizeBytes / 2 ** 20} MiB parts, ${(spec.chunkSizeBytes / GiB).toFixed(2)} GiB chunks`,
  );
  return runUpload(spec, { signal, ticksPerSecond, onSample: progress(spec.label) });
}

export async function main(argv: readonly string[], signal: AbortSignal): Promise<number> {
  // The config's own defaults: a run with no --part-size uploads as a user's backup would.
  const defaults = sinkConfig('http://127.0.0.1:9', { chunkSizeBytes: GiB }).s3;
  const args = parseScaleArgs(argv, defaults.part_size_bytes);
  const machine = describeMachine();
  const ticksPerSecond = clockTicksPerSecond();
  const main = await run(
    { label: 'main run', sizeBytes: args.sizeBytes, chunkSizeBytes: args.chunkSizeBytes, partSizeBytes: args.partSizeBytes },
    signal,
    ticksPerSecond,
  );
  const pairs: Array<[RunRecord, RunRecord]> = [];
  const overhead = args.overhead;
  for (let round = 1; overhead !== undefined && round <= overhead.rounds; round += 1) {
    const spec = { sizeBytes: overhead.sizeBytes, chunkSizeBytes: overhead.chunkSizeBytes };
    const big = await run(
      { label: `pair ${round}, ${mibOf(args.partSizeBytes)} MiB parts`, ...spec, partSizeBytes: args.partSizeBytes },
      signal,
      ticksPerSecond,
    );
    const small = await run(
      { label: `pair ${round}, ${mibOf(overhead.smallPartSizeBytes)} MiB parts`, ...spec, partSizeBytes: overhead.smallPartSizeBytes },
      signal,
      ticksPerSecond,
    );
    pairs.push([big, small]);
  }
  const analysis = analyse(main, pairs, args.warmupSeconds);
  const command = ['pnpm bench:scale', ...(argv.length === 0 ? [] : ['--', ...argv.filter((arg) => arg !== '--')])].join(' ');
  process.stdout.write(renderReport(analysis, { command, machine, mainSamples: main.samples }));
  if (args.jsonPath !== undefined) {
    await writeFile(args.jsonPath, `${JSON.stringify({ command, machine, args, main, pairs, analysis }, null, 1)}\n`);
  }
  return analysis.problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  const abort = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interruptedBy !== undefined) return;
      interruptedBy = signal;
      log(`${signal}: stopping the uploader and the sink`);
      abort.abort();
    });
  }
  main(process.argv.slice(2), abort.signal).then(
    (code) => {
      process.exitCode = interruptedBy === undefined ? code : 128 + constants.signals[interruptedBy];
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        if (error.message !== '') process.stderr.write(`${error.message}\n`);
        process.stderr.write(`${SCALE_USAGE}\n`);
        process.exitCode = 2;
      } else if (error instanceof Interrupted || interruptedBy !== undefined) {
        process.exitCode = 128 + constants.signals[interruptedBy ?? 'SIGINT'];
      } else {
        log(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
      }
    },
  );
}
