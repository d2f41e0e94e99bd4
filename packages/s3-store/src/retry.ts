import type { Config } from '@org/btrfs-s3-core';
import { errnoCode } from '@org/btrfs-s3-core';

/** How often and how patiently to retry. Defaults follow the spec (section 3.6). */
export interface RetryPolicy {
  /** Total attempts including the first (default 5). */
  readonly attempts?: number;
  /** Backoff base in ms (default 1000): the k-th retry waits up to base x 2^k. */
  readonly baseDelayMs?: number;
  /** Upper bound of one wait in ms (default 30000). */
  readonly maxDelayMs?: number;
}

/** One failed attempt that will be retried; for logs and the retries metric. */
export interface RetryEvent {
  /** The attempt that failed, 1-based. */
  readonly attempt: number;
  /** How long the helper waits before the next attempt. */
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions extends RetryPolicy {
  /** Stops waiting at once and makes no further attempt; the helper then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Which failures can succeed on a later attempt (default: isRetryableS3Error). */
  readonly isRetryable?: (error: unknown) => boolean;
  readonly onRetry?: (event: RetryEvent) => void;
  /** Injected so tests run instantly; must reject with `signal.reason` when the signal aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injected so jitter is deterministic in tests; returns a number in [0, 1). */
  readonly random?: () => number;
}

/** The retry knobs a caller passes to the uploader, the download and the thaw: policy plus test hooks. */
export type RetrySettings = Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>;

export const DEFAULT_RETRY_POLICY = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 } as const;

/** The retry keys of `[s3]`; absent ones keep DEFAULT_RETRY_POLICY's values. */
export type RetryConfig = Partial<Pick<Config['s3'], 'retry_attempts' | 'retry_base_seconds' | 'retry_cap_seconds'>>;

/** The retry policy `s3.retry_attempts`, `s3.retry_base_seconds` and `s3.retry_cap_seconds` set. */
export function retryPolicyFromConfig(s3: RetryConfig): RetryPolicy {
  return {
    attempts: s3.retry_attempts ?? DEFAULT_RETRY_POLICY.attempts,
    baseDelayMs: s3.retry_base_seconds === undefined ? DEFAULT_RETRY_POLICY.baseDelayMs : s3.retry_base_seconds * 1000,
    maxDelayMs: s3.retry_cap_seconds === undefined ? DEFAULT_RETRY_POLICY.maxDelayMs : s3.retry_cap_seconds * 1000,
  };
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreads retries of many workers apart. */
export function backoffDelayMs(retryIndex: number, policy: RetryPolicy = {}, random: () => number = Math.random): number {
  const { baseDelayMs, maxDelayMs } = { ...DEFAULT_RETRY_POLICY, ...policy };
  return random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retryIndex);
}

/** A timer that an AbortSignal cancels; the listener is removed either way so long runs do not leak. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, fails permanently, runs out of attempts or the
 * signal aborts. The project's one retry loop: every S3 call goes through it.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts } = { ...DEFAULT_RETRY_POLICY, ...options };
  const { signal, isRetryable = isRetryableS3Error, onRetry, sleep = abortableSleep, random = Math.random } = options;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`retry attempts must be a positive integer, got ${attempts}`);
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      // An aborted run is not a transient failure: report what the operation saw, do not wait.
      if (signal?.aborted || attempt >= attempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelayMs(attempt - 1, options, random);
      onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

// Error names S3 and S3-compatible stores use for "slow down" and server-side trouble.
const RETRYABLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'BandwidthLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  // S3's 400 "socket not read from or written to in time"; the same request can succeed.
  'RequestTimeout',
  // The SDK corrects its clock offset from the failed response, so the retry is signed right.
  'RequestTimeTooSkewed',
  // 400 when the connection dropped mid-body; a resend carries the whole body.
  'IncompleteBody',
  'TimeoutError',
  'PriorRequestNotComplete',
  // The body the store received does not hash to what the part was signed with: damaged
  // on the way, a resend can succeed; damaged at rest (the spool), every attempt fails.
  'XAmzContentSHA256Mismatch',
  'BadDigest',
]);

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

function httpStatus(error: object): number | undefined {
  if (!('$metadata' in error) || typeof error.$metadata !== 'object' || error.$metadata === null) return undefined;
  const metadata = error.$metadata;
  return 'httpStatusCode' in metadata && typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/**
 * Whether an S3 call that failed this way can succeed if repeated: throttling, 5xx,
 * timeouts and dropped connections can; any other 4xx (AccessDenied, NoSuchBucket,
 * InvalidArgument, InvalidRequest, EntityTooSmall, NoSuchUpload, ...) cannot, and
 * neither can an aborted request or an error this function does not recognise.
 */
export function isRetryableS3Error(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'AbortError') return false;
  if (name !== undefined && RETRYABLE_NAMES.has(name)) return true;
  const code = errnoCode(error);
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  if (error instanceof Error && /socket hang up/i.test(error.message)) return true;
  const status = httpStatus(error);
  if (status !== undefined) return status === 429 || status === 408 || (status >= 500 && status !== 501);
  // The SDK marks some failures (e.g. throttling it recognised) as retryable itself.
  return '$retryable' in error && typeof error.$retryable === 'object' && error.$retryable !== null;
}
