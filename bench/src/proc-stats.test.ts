import { parseStatCpu, parseStatus, readUsage } from './proc-stats';

describe('parseStatus', () => {
  it('reads VmRSS and VmHWM in bytes', () => {
    const text = 'Name:\tnode\nVmPeak:\t 999999 kB\nVmHWM:\t  614400 kB\nVmRSS:\t  563200 kB\n';
    expect(parseStatus(text)).toEqual({ rssBytes: 563200 * 1024, peakRssBytes: 614400 * 1024 });
  });

  it('refuses a status without them', () => {
    expect(() => parseStatus('Name:\tnode\n')).toThrow(/no VmRSS/);
  });
});

describe('parseStatCpu', () => {
  it('adds utime and stime (fields 14 and 15) in clock ticks', () => {
    const stat = '4242 (node) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 50000';
    expect(parseStatCpu(stat, 100)).toBeCloseTo(18.01);
  });

  it('counts fields after the last parenthesis, whatever the command name holds', () => {
    const stat = '4242 (a) (b c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 300 100 0 0 20 0 11 0 100 1000000 50000';
    expect(parseStatCpu(stat, 100)).toBe(4);
  });
});

describe('readUsage', () => {
  it('reads this process, and nothing for a pid that does not exist', async () => {
    const usage = await readUsage(process.pid, 100);
    expect(usage?.rssBytes).toBeGreaterThan(0);
    expect(usage?.peakRssBytes).toBeGreaterThanOrEqual(usage?.rssBytes ?? Infinity);
    await expect(readUsage(2 ** 22 + 1, 100)).resolves.toBeUndefined();
  });
});
