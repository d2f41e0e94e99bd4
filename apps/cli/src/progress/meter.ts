import type { ProgressEvent } from '@org/btrfs-s3-core';

/** The current rate is measured over this much of the recent past, not since the start. */
export const RATE_WINDOW_MS = 15_000;

/** What a progress display shows of one transfer at one moment. */
export interface ProgressFacts {
  readonly bytes: number;
  /** The exact total (a restore's), or the estimate (a backup's); undefined when neither is known. */
  readonly totalBytes: number | undefined;
  /** `totalBytes` is a guess, shown as "~". */
  readonly estimated: boolean;
  /** More bytes than the estimate: no percent, no time left. */
  readonly exceeded: boolean;
  /** Whole percent done, at most 99 until the transfer completed (an estimate may be short); undefined without a total or past it. */
  readonly percent: number | undefined;
  /** Bytes per second over the last RATE_WINDOW_MS. */
  readonly bytesPerSecond: number;
  readonly elapsedSeconds: number;
  /** Seconds left at the current rate; undefined without a total, past the estimate, when stalled, or at the end. */
  readonly etaSeconds: number | undefined;
  /** Running, or how the transfer ended. */
  readonly state: 'running' | 'completed' | 'failed';
  readonly chunks: number;
  readonly parts: number;
  readonly retries: number;
}

interface Sample {
  readonly at: number;
  readonly bytes: number;
}

/**
 * Measures one transfer from its events with an injected clock (milliseconds). The
 * rate is a moving window: bytes since the newest sample at least RATE_WINDOW_MS old,
 * over the time since it, so a transfer that slows down or stalls shows it within
 * seconds, and one whose events come rarely (large parts) still shows a steady rate.
 */
export class TransferMeter {
  private readonly startedAt: number;
  private samples: Sample[];
  private last: ProgressEvent;
  private endedAt: number | undefined;

  constructor(
    first: ProgressEvent,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
    this.samples = [{ at: this.startedAt, bytes: first.bytes }];
    this.last = first;
    if (first.done) this.endedAt = this.startedAt;
  }

  record(event: ProgressEvent): void {
    const at = this.now();
    this.last = event;
    this.samples.push({ at, bytes: event.bytes });
    const base = this.samples.indexOf(this.baseline(at));
    this.samples = this.samples.slice(base);
    if (event.done) this.endedAt ??= at;
  }

  facts(): ProgressFacts {
    const now = this.endedAt ?? this.now();
    const event = this.last;
    const state = !event.done ? 'running' : event.failed ? 'failed' : 'completed';
    const exact = event.totalBytes !== undefined && event.totalBytes > 0 ? event.totalBytes : undefined;
    const estimate = event.estimatedTotalBytes !== undefined && event.estimatedTotalBytes > 0 ? event.estimatedTotalBytes : undefined;
    const totalBytes = exact ?? estimate;
    const estimated = exact === undefined && estimate !== undefined;
    const exceeded = estimated && totalBytes !== undefined && event.bytes > totalBytes;
    const bytesPerSecond = this.rate(now);
    let percent: number | undefined;
    let etaSeconds: number | undefined;
    if (totalBytes !== undefined && !exceeded) {
      const share = Math.min(100, Math.floor((event.bytes / totalBytes) * 100));
      percent = state === 'completed' ? 100 : Math.min(estimated ? 99 : 100, share);
      if (state === 'running' && bytesPerSecond > 0) etaSeconds = Math.max(0, totalBytes - event.bytes) / bytesPerSecond;
    }
    return {
      bytes: event.bytes,
      totalBytes,
      estimated,
      exceeded,
      percent,
      bytesPerSecond,
      elapsedSeconds: (now - this.startedAt) / 1000,
      etaSeconds,
      state,
      chunks: event.chunks,
      parts: event.parts,
      retries: event.retries,
    };
  }

  /** The newest sample at least a window before `at`, other than the latest; the oldest kept if none is that old. */
  private baseline(at: number): Sample {
    let base = this.samples[0] ?? { at: this.startedAt, bytes: 0 };
    for (const sample of this.samples.slice(0, -1)) if (sample.at <= at - RATE_WINDOW_MS) base = sample;
    return base;
  }

  private rate(at: number): number {
    const base = this.baseline(at);
    const seconds = (at - base.at) / 1000;
    return seconds > 0 ? (this.last.bytes - base.bytes) / seconds : 0;
  }
}
