import { BtrfsToS3Error, ConfigError, errnoCode } from './errors';
import { ExitCode } from './exit-codes';

describe('errors', () => {
  it('carries the exit code and cause', () => {
    const cause = new Error('root cause');
    const error = new BtrfsToS3Error('failed', { exitCode: ExitCode.PartialFailure, cause });
    expect(error.exitCode).toBe(4);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('BtrfsToS3Error');
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
