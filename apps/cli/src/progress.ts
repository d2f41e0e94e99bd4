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
 * long transfer is alive.
 */
export function progressRenderer(options: { tty: boolean; logger: Logger; intervalSeconds: number; now?: () => number }): ProgressListener {
  const transfers = new Map<string, Transfer>();
  return (event: ProgressEvent) => {
    let transfer = transfers.get(event.label);
    if (transfer === undefined) {
      transfer = options.tty ? bar(event.label, options.now) : logLines(event, options);
      transfers.set(event.label, transfer);
    }
    transfer.update(event.bytes);
    if (event.done) {
      transfer.stop();
      transfers.delete(event.label);
    }
  };
}

function bar(label: string, now: () => number = Date.now): Transfer {
  const started = now();
  const rate = (bytes: number) => formatRate(bytes, (now() - started) / 1000);
  const line = new SingleBar({
    format: `${label}: {done} at {rate}`,
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
    noTTYOutput: false,
  });
  line.start(0, 0, { done: formatBytes(0), rate: rate(0) });
  return {
    update: (bytes) => line.update(bytes, { done: formatBytes(bytes), rate: rate(bytes) }),
    stop: () => line.stop(),
  };
}

function logLines(first: ProgressEvent, options: { logger: Logger; intervalSeconds: number; now?: () => number }): Transfer {
  const now = options.now ?? Date.now;
  const started = now();
  const verb = first.phase === 'upload' ? 'uploaded' : 'received';
  let lastLog = started;
  return {
    update(bytes) {
      if (now() - lastLog < options.intervalSeconds * 1000) return;
      lastLog = now();
      options.logger.info(`${first.label}: ${formatBytes(bytes)} ${verb} at ${formatRate(bytes, (now() - started) / 1000)}`);
    },
    stop: () => undefined,
  };
}
