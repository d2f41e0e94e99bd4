// One scale run: a fresh sink, the uploader in a child process (long-run-child.js) in a
// process group of its own, and its RSS and CPU sampled from /proc every second.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Interrupted } from './exec';
import { type ChildReport, type ChildRequest, isChildReport } from './scale-protocol';
import { readUsage } from './proc-stats';
import { cliNodeFlags, SINK_CREDENTIALS } from './scale-config';
import type { Sample } from './scale-stats';
import { type SinkStats, startSink } from './sink';

export interface RunSpec {
  readonly label: string;
  readonly sizeBytes: number;
  readonly chunkSizeBytes: number;
  readonly partSizeBytes: number;
}

export type DoneReport = Extract<ChildReport, { kind: 'done' }>;

export interface RunRecord {
  readonly spec: RunSpec;
  readonly samples: readonly Sample[];
  readonly report: DoneReport;
  readonly sink: SinkStats;
}

const SAMPLE_MS = 1000;

/**
 * Stops a run's process group (the uploader and its source), and only that: the group
 * the uploader leads, by its id. Also after the uploader exited, as a source it left
 * behind is still in the group.
 */
function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // The group is gone already.
  }
}

export async function runUpload(
  spec: RunSpec,
  options: { readonly signal: AbortSignal; readonly ticksPerSecond: number; readonly onSample?: (sample: Sample) => void },
): Promise<RunRecord> {
  if (options.signal.aborted) throw new Interrupted('interrupted');
  const sink = await startSink();
  let timer: NodeJS.Timeout | undefined;
  let child: ChildProcess | undefined;
  let succeeded = false;
  const stop = () => {
    if (child !== undefined) stopGroup(child);
  };
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    const request: ChildRequest = {
      endpoint: sink.endpoint,
      sizeBytes: spec.sizeBytes,
      chunkSizeBytes: spec.chunkSizeBytes,
      partSizeBytes: spec.partSizeBytes,
    };
    const started = performance.now();
    const flags = [...cliNodeFlags(), '--expose-gc'];
    const running = spawn(process.execPath, [...flags, join(__dirname, 'long-run-child.js'), JSON.stringify(request)], {
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...SINK_CREDENTIALS },
    });
    child = running;
    const samples: Sample[] = [];
    let sampling = false;
    timer = setInterval(() => {
      const pid = running.pid;
      if (sampling || pid === undefined) return;
      sampling = true;
      readUsage(pid, options.ticksPerSecond)
        .then((usage) => {
          if (usage === undefined) return;
          const { bytesReceived, partsAccepted } = sink.stats();
          const sample = { t: (performance.now() - started) / 1000, ...usage, bytes: bytesReceived, parts: partsAccepted };
          samples.push(sample);
          options.onSample?.(sample);
        })
        .finally(() => {
          sampling = false;
        });
    }, SAMPLE_MS);
    const report = await new Promise<ChildReport | undefined>((resolve, reject) => {
      let received: ChildReport | undefined;
      running.on('message', (message: unknown) => {
        if (isChildReport(message)) received = message;
      });
      running.once('error', reject);
      // 'close' comes after the IPC channel closed, so the report has arrived by then.
      running.once('close', () => resolve(received));
    });
    if (options.signal.aborted) throw new Interrupted('interrupted');
    if (report === undefined)
      throw new Error(`${spec.label}: the uploader exited (${running.signalCode ?? running.exitCode}) without a report`);
    if (report.kind === 'failed') throw new Error(`${spec.label}: the upload failed: ${report.message}`);
    succeeded = true;
    return { spec, samples, report, sink: sink.stats() };
  } finally {
    clearInterval(timer);
    options.signal.removeEventListener('abort', stop);
    // A run that succeeded has nothing left: the uploader waited for its source to exit.
    if (!succeeded) stop();
    await sink.close();
  }
}
