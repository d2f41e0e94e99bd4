import { setMaxListeners } from 'node:events';

/** How long the calls a stopped run lets finish may still take (S3BucketOptions and ChunkedUploadOptions `stopGraceMs`). */
export const STOP_GRACE_MS = 60_000;

/**
 * A signal that aborts `graceMs` after `signal` does: for the calls a run lets finish
 * when it is stopped or fails (small whole-object reads and writes, a multipart upload's
 * Complete, the aborts of its open uploads), so that they still end when the store has
 * stopped answering. systemd sends SIGKILL 90 s after SIGTERM by default.
 */
export function graceAfter(signal: AbortSignal, graceMs: number): AbortSignal;
export function graceAfter(signal: AbortSignal | undefined, graceMs: number): AbortSignal | undefined;
export function graceAfter(signal: AbortSignal | undefined, graceMs: number): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const controller = new AbortController();
  // Every request in flight listens on it (up to a batch of reads at once); not a leak.
  setMaxListeners(0, controller.signal);
  const start = () => {
    const timer = setTimeout(() => controller.abort(new Error(`the store did not answer within ${graceMs / 1000} s of the stop`)), graceMs);
    // The grace bounds a call still in flight; it must not keep a finished run alive.
    timer.unref();
  };
  if (signal.aborted) start();
  else signal.addEventListener('abort', start, { once: true });
  return controller.signal;
}
