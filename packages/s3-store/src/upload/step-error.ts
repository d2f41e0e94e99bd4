import type { FailurePoint } from './errors';

/** Internal: a failure tagged with the step it happened in, so the run's error can name the key and part. */
export class StepError extends Error {
  constructor(
    readonly point: FailurePoint,
    cause: unknown,
  ) {
    super(`${point.operation} ${point.key}${point.partNumber === undefined ? '' : ` part ${point.partNumber}`} failed`, { cause });
    this.name = 'StepError';
  }
}
