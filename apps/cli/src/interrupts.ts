import { InterruptedError, type Logger } from '@org/btrfs-s3-core';

/**
 * Runs `work` with an AbortSignal that SIGINT and SIGTERM abort, so the work in
 * progress is rolled back (multipart uploads aborted, partial receives removed)
 * and `finally` blocks release what they hold. An interrupted run fails with
 * InterruptedError whatever error the abort surfaced as.
 */
export async function withInterrupts<T>(logger: Logger, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    logger.warn(`${signal} received: stopping and rolling back ${what}`);
    controller.abort(new InterruptedError(signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } catch (error) {
    throw controller.signal.reason instanceof InterruptedError ? controller.signal.reason : error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
