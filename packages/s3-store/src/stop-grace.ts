/** How long the small calls of a stopped run may still take (S3BucketOptions.stopGraceMs). */
export const STOP_GRACE_MS = 60_000;

/**
 * A signal that aborts `graceMs` after `signal` does: for the calls a run lets finish
 * when it is stopped (small whole-object reads and writes), so that they still end when
 * the store has stopped answering. systemd sends SIGKILL 90 s after SIGTERM by default.
 */
export function graceAfter(signal: AbortSignal | undefined, graceMs: number): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const controller = new AbortController();
  const start = () => {
    const timer = setTimeout(() => controller.abort(new Error(`the store did not answer within ${graceMs / 1000} s of the stop`)), graceMs);
    // The grace bounds a call still in flight; it must not keep a finished run alive.
    timer.unref();
  };
  if (signal.aborted) start();
  else signal.addEventListener('abort', start, { once: true });
  return controller.signal;
}
