import { BtrfsToS3Error, ConfigError, errnoCode, exitCodeOf, InterruptedError } from './errors';
import { ExitCode } from './exit-codes';

describe('errors', () => {
  it('carries the exit code and cause', () => {
    const cause = new Error('root cause');
    const error = new BtrfsToS3Error('failed', { exitCode: ExitCode.PartialFailure, cause });
    expect(error.exitCode).toBe(4);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('BtrfsToS3Error');
  });

  it('maps a failure to its exit code; a signal aborted by SIGTERM wins over the error the abort surfaced as', () => {
    expect(exitCodeOf(new ConfigError([{ key: 'k', message: 'm' }]))).toBe(ExitCode.Usage);
    expect(exitCodeOf(new Error('unexpected'))).toBe(ExitCode.Fatal);
    const controller = new AbortController();
    expect(exitCodeOf(new Error('aborted'), controller.signal)).toBe(ExitCode.Fatal);
    controller.abort(new InterruptedError('SIGTERM'));
    expect(exitCodeOf(new Error('aborted'), controller.signal)).toBe(ExitCode.Terminated);
  });

  it('lists every config issue in the message', () => {
    const error = new ConfigError([
      { key: 's3.bucket', message: 'is required' },
      { key: 's3.region', message: 'must not be empty' },
    ]);
    expect(error.message).toBe('invalid configuration (2 problems):\n  s3.bucket: is required\n  s3.region: must not be empty');
    expect(error.exitCode).toBe(ExitCode.Usage);
  });

  it('reads errno codes', () => {
    expect(errnoCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(errnoCode(new Error('x'))).toBeUndefined();
    expect(errnoCode('ENOENT')).toBeUndefined();
  });

  it('keeps the exit codes distinct', () => {
    const codes = Object.values(ExitCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(ExitCode.Success).toBe(0);
  });
});

describe('InterruptedError', () => {
  it('exits 128 + the signal number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM', () => {
    expect(new InterruptedError('SIGINT').exitCode).toBe(130);
    expect(new InterruptedError('SIGTERM').exitCode).toBe(143);
    expect(new InterruptedError('SIGTERM', 'the bucket is unchanged').message).toBe('interrupted by SIGTERM; the bucket is unchanged');
  });
});
