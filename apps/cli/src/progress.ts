import type { Logger, ProgressEvent, ProgressListener } from '@org/btrfs-s3-core';
import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';
import { SingleBar } from 'cli-progress';

interface Transfer {
  update(bytes: number): void;
  stop(): void;
}

/**
 * Renders the libraries' progress events: a live line per transfer on a terminal
 * (cli-progress), otherwise a log line every `intervalSeconds` so journald shows a
 * long transfer is alive. A transfer of known size (a restore's) shows its total,
 * percent and the time left at the average rate so far.
 */
export function progressRenderer(options: { tty: boolean; logger: Logger; intervalSeconds: number; now?: () => number }): ProgressListener {
  const transfers = new Map<string, Transfer>();
  return (event: ProgressEvent) => {
    let transfer = transfers.get(event.label);
    if (transfer === undefined) {
      transfer = options.tty ? bar(event, options.now) : logLines(event, options);
      transfers.set(event.label, transfer);
    }
    transfer.update(event.bytes);
    if (event.done) {
      transfer.stop();
      transfers.delete(event.label);
    }
  };
}

/** "1.2 GiB of 4.0 GiB (30%) at 112.4 MiB/s, about 25 s left", or without a total "1.2 GiB at 112.4 MiB/s". */
export function describeProgress(bytes: number, totalBytes: number | undefined, elapsedSeconds: number): string {
  const rate = formatRate(bytes, elapsedSeconds);
  if (totalBytes === undefined || totalBytes <= 0) return `${formatBytes(bytes)} at ${rate}`;
  const percent = Math.min(100, Math.floor((bytes / totalBytes) * 100));
  const perSecond = elapsedSeconds > 0 ? bytes / elapsedSeconds : 0;
  const left = perSecond > 0 ? `, about ${formatDuration((totalBytes - bytes) / perSecond)} left` : '';
  return `${formatBytes(bytes)} of ${formatBytes(totalBytes)} (${percent}%) at ${rate}${left}`;
}

/** Whole seconds, minutes or hours: an estimate does not deserve more precision. */
function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function bar(first: ProgressEvent, now: () => number = Date.now): Transfer {
  const started = now();
  const line = new SingleBar({
    format: `${first.label}: {progress}`,
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
    noTTYOutput: false,
  });
  const progress = (bytes: number) => describeProgress(bytes, first.totalBytes, (now() - started) / 1000);
  line.start(first.totalBytes ?? 0, 0, { progress: progress(0) });
  return {
    update: (bytes) => line.update(bytes, { progress: progress(bytes) }),
    stop: () => line.stop(),
  };
}

function logLines(first: ProgressEvent, options: { logger: Logger; intervalSeconds: number; now?: () => number }): Transfer {
  const now = options.now ?? Date.now;
  const started = now();
  const verb = first.phase === 'upload' ? 'uploaded' : 'restored';
  let lastLog = started;
  return {
    update(bytes) {
      if (now() - lastLog < options.intervalSeconds * 1000) return;
      lastLog = now();
      options.logger.info(`${first.label}: ${verb} ${describeProgress(bytes, first.totalBytes, (now() - started) / 1000)}`);
    },
    stop: () => undefined,
  };
}
