import { formatRate, parseMilliseconds, parseRate, peakRate, RateError, steadyOrWhole, steadyRate } from './rate';

describe('parseRate', () => {
  it.each([
    ['100Mbit', 12.5e6],
    ['500Mbit/s', 62.5e6],
    ['1Gbit', 125e6],
    ['80 Mbit', 10e6],
    ['512kbit', 64e3],
    ['12.5MB/s', 12.5e6],
    ['6MiB/s', 6 * 2 ** 20],
    ['64KiB/s', 65536],
  ])('%s is %d bytes per second', (text, bytes) => {
    expect(parseRate(text)).toBe(bytes);
  });

  it.each(['', 'fast', '100', '100mbit', '-1Mbit', '0Mbit', '10 MB'])('refuses %p', (text) => {
    expect(() => parseRate(text)).toThrow(RateError);
  });
});

describe('formatRate', () => {
  it('says link rates the way they are sold', () => {
    expect(formatRate(12.5e6)).toBe('100 Mbit/s');
    expect(formatRate(125e6)).toBe('1 Gbit/s');
    expect(formatRate(10.1e6)).toBe('80.8 Mbit/s');
  });
});

describe('parseMilliseconds', () => {
  it('takes ms, s or a bare number of ms', () => {
    expect(parseMilliseconds('40ms')).toBe(40);
    expect(parseMilliseconds('0.1s')).toBe(100);
    expect(parseMilliseconds('0')).toBe(0);
    expect(() => parseMilliseconds('soon')).toThrow(RateError);
  });
});

/** Cumulative counts once a second: `idle` seconds of nothing, then `rate` bytes a second for `seconds`, then nothing. */
function samples(idle: number, rate: number, seconds: number, tail = 2): { ms: number; bytes: number }[] {
  const out = [];
  for (let t = 0; t <= idle + seconds + tail; t++) out.push({ ms: t * 1000, bytes: rate * Math.min(seconds, Math.max(0, t - idle)) });
  return out;
}

describe('steadyRate', () => {
  it('is the rate between 5% and 95% of the bytes, start-up and the tail left out', () => {
    const steady = steadyRate(samples(3, 10e6, 80));
    expect(steady.bytesPerSecond).toBeCloseTo(10e6, 0);
    expect(steady.fromMs).toBeCloseTo(3000 + 4000, 0); // 5% of 80 s at a steady rate
    expect(steady.toMs).toBeCloseTo(3000 + 76_000, 0);
  });

  it('leaves out an initial burst', () => {
    // 20 MB in the first second (a burst), then 10 MB/s for 70 s.
    const burst = samples(1, 10e6, 70).map((s) => (s.ms >= 2000 ? { ...s, bytes: s.bytes + 10e6 } : s));
    expect(steadyRate(burst).bytesPerSecond).toBeCloseTo(10e6, -4);
  });

  it('refuses a run that sent nothing, or everything in one sample', () => {
    expect(() => steadyRate(samples(1, 0, 10))).toThrow(/no bytes/);
    expect(() =>
      steadyRate([
        { ms: 0, bytes: 0 },
        { ms: 1000, bytes: 5e6 },
      ]),
    ).toThrow(/too short/);
  });
});

describe('peakRate', () => {
  it('is the fastest span of the given length inside the window', () => {
    const counts = samples(0, 10e6, 60).map((s) => (s.ms >= 30_000 ? { ...s, bytes: s.bytes + 5e6 } : s));
    // One second carries 15 MB: a 10 s window holding it averages 10.5 MB/s.
    expect(peakRate(counts, 10_000, 0, 60_000)).toBeCloseTo(10.5e6, 0);
    expect(peakRate(counts, 120_000, 0, 60_000)).toBeUndefined();
  });
});

describe('steadyOrWhole', () => {
  it('falls back to the whole run when the steady span cannot be judged', () => {
    const whole = steadyOrWhole([
      { ms: 0, bytes: 0 },
      { ms: 1000, bytes: 5e6 },
    ]);
    expect(whole).toEqual({ fromMs: 0, toMs: 1000, bytes: 5e6, bytesPerSecond: 5e6 });
    expect(steadyOrWhole(samples(3, 10e6, 80)).bytesPerSecond).toBeCloseTo(10e6, 0);
  });
});
