import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, parseClock, parseTimeV } from './time-v';

// Real output of `/usr/bin/time -v -o FILE /usr/bin/aws s3 cp - ...` (GNU time 1.9, Debian 12).
const AWS_UPLOAD = readFileSync(join(__dirname, '__fixtures__/aws-upload.time'), 'utf8');

describe('parseClock', () => {
  it.each([
    ['0:10.27', 10.27],
    ['2:03.45', 123.45],
    ['1:02:03', 3723],
    ['7.5', 7.5],
  ])('%s is %d s', (text, seconds) => {
    expect(parseClock(text)).toBeCloseTo(seconds, 6);
  });

  it.each(['', 'abc', '1:2:3:4', '1:-2'])('refuses "%s"', (text) => {
    expect(() => parseClock(text)).toThrow(/clock value/);
  });
});

describe('parseTimeV', () => {
  it('reads wall time, CPU and peak RSS of a real run', () => {
    const usage = parseTimeV(AWS_UPLOAD);
    expect(usage).toEqual({ userSeconds: 2.97, systemSeconds: 2.41, wallSeconds: 10.27, maxRssKiB: 338448, exitStatus: 0 });
    expect(cpuSeconds(usage)).toBeCloseTo(5.38, 6);
  });

  it('reads the status of a command that failed', () => {
    const text = `Command exited with non-zero status 3\n${AWS_UPLOAD.replace('Exit status: 0', 'Exit status: 3')}`;
    expect(parseTimeV(text).exitStatus).toBe(3);
  });

  it('reads the signal that ended a command', () => {
    const usage = parseTimeV(`Command terminated by signal 9\n${AWS_UPLOAD}`);
    expect(usage.signal).toBe(9);
    expect(usage.exitStatus).toBe(0);
  });

  it('takes a command line holding ": " for what it is', () => {
    const text = AWS_UPLOAD.replace(/Command being timed: .*/, 'Command being timed: "echo a: b"');
    expect(parseTimeV(text).maxRssKiB).toBe(338448);
  });

  it('names a missing line', () => {
    const text = AWS_UPLOAD.split('\n')
      .filter((line) => !line.includes('Maximum resident'))
      .join('\n');
    expect(() => parseTimeV(text)).toThrow(/Maximum resident set size/);
  });

  it('refuses a value that is not a number', () => {
    expect(() => parseTimeV(AWS_UPLOAD.replace('User time (seconds): 2.97', 'User time (seconds): n/a'))).toThrow(/User time/);
  });
});
