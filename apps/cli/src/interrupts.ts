import { InterruptedError, type Logger } from '@org/btrfs-s3-core';

export interface InterruptedWork {
  /** What is stopped, for the log line ("the backup in progress"). */
  readonly what: string;
  /** What the rollback leaves, for the error line ("the previous backup stays current"). */
  readonly outcome?: string;
}

/**
 * Runs `work` with an AbortSignal that SIGINT and SIGTERM abort, so the work in
 * progress is rolled back (multipart uploads aborted, partial receives removed)
 * and `finally` blocks release what they hold. An interrupted run fails with
 * InterruptedError whatever error the abort surfaced as. Further signals during the
 * rollback are noted, not obeyed: dying half-way through cleanup would leave
 * exactly the debris the rollback is removing (SIGKILL still ends it at once).
 */
export async function withInterrupts<T>(logger: Logger, work: InterruptedWork, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn(`${signal} received: still rolling back ${work.what}; send SIGKILL to stop without cleanup`);
      return;
    }
    logger.warn(`${signal} received: stopping and rolling back ${work.what}`);
    controller.abort(new InterruptedError(signal, work.outcome));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } catch (error) {
    throw controller.signal.reason instanceof InterruptedError ? controller.signal.reason : error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
