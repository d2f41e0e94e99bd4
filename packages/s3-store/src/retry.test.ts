import { s3Error } from './__fakes__/fake-s3';
import { abortableSleep, backoffDelayMs, isRetryableS3Error, retryPolicyFromConfig, withRetry } from './retry';

/** An instant sleep that records the waits it was asked for. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

const systemError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
const named = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('backoffDelayMs', () => {
  it('draws each wait uniformly from zero up to base x 2^retry (full jitter)', () => {
    expect(backoffDelayMs(0, {}, () => 0)).toBe(0);
    expect(backoffDelayMs(0, {}, () => 0.5)).toBe(500);
    expect(backoffDelayMs(1, {}, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(3, {}, () => 0.999)).toBeCloseTo(7992);
  });

  it('never waits longer than the 30 s cap', () => {
    expect(backoffDelayMs(5, {}, () => 0.999)).toBeCloseTo(29_970);
    expect(backoffDelayMs(20, {}, () => 0.999)).toBeCloseTo(29_970);
    expect(backoffDelayMs(4, { baseDelayMs: 10, maxDelayMs: 100 }, () => 0.999)).toBeCloseTo(99.9);
  });
});

describe('retryPolicyFromConfig', () => {
  it('maps s3.retry_attempts, retry_base_seconds and retry_cap_seconds to attempts and milliseconds', () => {
    expect(retryPolicyFromConfig({ retry_attempts: 8, retry_base_seconds: 0.5, retry_cap_seconds: 4 })).toEqual({
      attempts: 8,
      baseDelayMs: 500,
      maxDelayMs: 4000,
    });
  });

  it('keeps the default policy for keys that are absent', () => {
    expect(retryPolicyFromConfig({})).toEqual({ attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 });
  });
});

describe('withRetry', () => {
  it('retries a 503 SlowDown and returns the later success, reporting the retry', async () => {
    const { waits, sleep } = recordingSleep();
    const events: Array<{ attempt: number; delayMs: number }> = [];
    const operation = jest.fn<Promise<string>, [number]>().mockRejectedValueOnce(s3Error('SlowDown', 503)).mockResolvedValueOnce('ok');
    const result = await withRetry(operation, {
      sleep,
      random: () => 0.25,
      onRetry: ({ attempt, delayMs }) => events.push({ attempt, delayMs }),
    });
    expect(result).toBe('ok');
    expect(operation.mock.calls).toEqual([[1], [2]]);
    expect(waits).toEqual([250]);
    expect(events).toEqual([{ attempt: 1, delayMs: 250 }]);
  });

  it('makes 5 attempts by default with doubling jittered waits, then rejects with the last error', async () => {
    const { waits, sleep } = recordingSleep();
    const errors = [1, 2, 3, 4, 5].map((n) => Object.assign(s3Error('InternalError', 500), { message: `failure ${n}` }));
    let call = 0;
    const attempt = () => Promise.reject(errors[call++]);
    await expect(withRetry(attempt, { sleep, random: () => 0.5 })).rejects.toBe(errors[4]);
    expect(call).toBe(5);
    expect(waits).toEqual([500, 1000, 2000, 4000]);
  });

  it('honours a smaller attempt count', async () => {
    const { waits, sleep } = recordingSleep();
    const operation = jest.fn(() => Promise.reject(systemError('ECONNRESET')));
    await expect(withRetry(operation, { attempts: 2, sleep, random: () => 0 })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(operation).toHaveBeenCalledTimes(2);
    expect(waits).toEqual([0]);
  });

  it('does not retry AccessDenied', async () => {
    const { waits, sleep } = recordingSleep();
    const denied = s3Error('AccessDenied', 403);
    const operation = jest.fn(() => Promise.reject(denied));
    await expect(withRetry(operation, { sleep })).rejects.toBe(denied);
    expect(operation).toHaveBeenCalledTimes(1);
    expect(waits).toEqual([]);
  });

  it('stops a 60 s backoff wait as soon as the signal aborts, with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    const operation = jest.fn(() => Promise.reject(s3Error('SlowDown', 503)));
    const started = Date.now();
    const retried = withRetry(operation, {
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      random: () => 1,
      // Abort once the wait has begun (onRetry runs just before it).
      onRetry: () => setImmediate(() => controller.abort(reason)),
      signal: controller.signal,
    });
    await expect(retried).rejects.toBe(reason);
    expect(operation).toHaveBeenCalledTimes(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('makes no attempt when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    const operation = jest.fn(() => Promise.resolve(1));
    await expect(withRetry(operation, { signal: controller.signal })).rejects.toThrow('too late');
    expect(operation).not.toHaveBeenCalled();
  });

  it('rejects an attempt count below one', async () => {
    await expect(withRetry(() => Promise.resolve(1), { attempts: 0 })).rejects.toThrow(RangeError);
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay and leaves no abort listener behind', async () => {
    const controller = new AbortController();
    const added = jest.spyOn(controller.signal, 'addEventListener');
    const removed = jest.spyOn(controller.signal, 'removeEventListener');
    await abortableSleep(1, controller.signal);
    expect(added).toHaveBeenCalledTimes(1);
    expect(removed).toHaveBeenCalledWith('abort', added.mock.calls[0]?.[1]);
  });
});

describe('isRetryableS3Error', () => {
  it.each([
    ['503 SlowDown', s3Error('SlowDown', 503)],
    ['503 ServiceUnavailable', s3Error('ServiceUnavailable', 503)],
    ['500 InternalError', s3Error('InternalError', 500)],
    ['502 from a proxy', s3Error('Unknown', 502)],
    ['429 TooManyRequests', s3Error('TooManyRequests', 429)],
    ['400 RequestTimeout', s3Error('RequestTimeout', 400)],
    ['403 RequestTimeTooSkewed', s3Error('RequestTimeTooSkewed', 403)],
    ['the SDK request TimeoutError', named('TimeoutError', 'Connection timed out after 120000 ms')],
    ['ECONNRESET', systemError('ECONNRESET')],
    ['EPIPE', systemError('EPIPE')],
    ['ECONNREFUSED', systemError('ECONNREFUSED')],
    ['ETIMEDOUT', systemError('ETIMEDOUT')],
    ['socket hang up', new Error('socket hang up')],
  ])('retries %s', (_label, error) => {
    expect(isRetryableS3Error(error)).toBe(true);
  });

  it.each([
    ['403 AccessDenied', s3Error('AccessDenied', 403)],
    ['404 NoSuchBucket', s3Error('NoSuchBucket', 404)],
    ['404 NoSuchUpload', s3Error('NoSuchUpload', 404)],
    ['400 InvalidArgument', s3Error('InvalidArgument', 400)],
    ['400 InvalidRequest', s3Error('InvalidRequest', 400)],
    ['400 EntityTooSmall', s3Error('EntityTooSmall', 400)],
    ['501 NotImplemented', s3Error('NotImplemented', 501)],
    ['an aborted request', named('AbortError', 'Request aborted')],
    ['a programming error', new TypeError('x is undefined')],
    ['a thrown string', 'boom'],
  ])('does not retry %s', (_label, error) => {
    expect(isRetryableS3Error(error)).toBe(false);
  });
});
