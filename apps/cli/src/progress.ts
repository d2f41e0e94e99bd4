import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';
import type { Logger } from '@org/btrfs-s3-core';
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Total bytes done so far. */
  update(bytes: number): void;
  stop(): void;
}

export type ProgressFactory = (label: string) => Progress;

/**
 * Upload progress: a live line on a terminal (cli-progress), otherwise a log line
 * every `intervalSeconds` so journald shows a long upload is alive.
 */
export function progressFactory(options: { tty: boolean; logger: Logger; intervalSeconds: number; now?: () => number }): ProgressFactory {
  const now = options.now ?? Date.now;
  return (label) => {
    const started = now();
    const rate = (bytes: number) => formatRate(bytes, (now() - started) / 1000);
    if (options.tty) {
      const bar = new SingleBar({ format: `${label}: {done} at {rate}`, hideCursor: true, clearOnComplete: false, stream: process.stderr, noTTYOutput: false });
      bar.start(0, 0, { done: formatBytes(0), rate: rate(0) });
      return {
        update: (bytes) => bar.update(bytes, { done: formatBytes(bytes), rate: rate(bytes) }),
        stop: () => bar.stop(),
      };
    }
    let lastLog = started;
    return {
      update(bytes) {
        if (now() - lastLog < options.intervalSeconds * 1000) return;
        lastLog = now();
        options.logger.info(`${label}: ${formatBytes(bytes)} uploaded at ${rate(bytes)}`);
      },
      stop: () => undefined,
    };
  };
}
