import { formatSize, GiB, KiB, MiB, parseDuration, parseRate, parseSize, type Quantity, quantityValue, TiB } from './units';

const value = (quantity: Quantity | undefined) => (quantity === undefined ? undefined : quantityValue(quantity));

describe('parseRate', () => {
  it.each([
    ['6250000', 6_250_000],
    ['50Mbit', 6_250_000],
    ['50 Mbit/s', 6_250_000],
    ['1Gbit', 125_000_000],
    ['800kbit', 100_000],
    ['8bit', 1],
    ['6MiB/s', 6 * MiB],
    ['6MB', 6_000_000],
    ['1.5Mbit', 187_500],
  ])('reads %j as %d bytes per second', (text, bytes) => {
    expect(value(parseRate(text))).toBe(bytes);
  });

  it.each(['50M', '50mbit', '50Mb', '50Mbps', '50 Mbit /s', '-1Mbit', '50Mbit/h'])('refuses %j rather than guess', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });
});

describe('parseSize', () => {
  it.each([
    ['512', 512],
    ['0', 0],
    ['512B', 512],
    ['1KiB', KiB],
    ['128MiB', 128 * MiB],
    ['128 MiB', 128 * MiB],
    ['200GiB', 200 * GiB],
    ['1TiB', TiB],
    ['1kB', 1000],
    ['100MB', 100_000_000],
    ['2GB', 2e9],
    ['1TB', 1e12],
    ['1.5GiB', 1.5 * GiB],
    ['1.5KiB', 1536],
    ['1.1MB', 1_100_000],
    ['0.5MiB', 512 * KiB],
    ['007MiB', 7 * MiB],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(value(parseSize(text))).toBe(bytes);
  });

  it('keeps a fraction of a byte as a fraction, for the caller to refuse', () => {
    expect(value(parseSize('0.3B'))).toBeCloseTo(0.3);
    expect(value(parseSize('1.0001KiB'))).toBeCloseTo(1024.1024);
  });

  it.each([
    ['128M', 'a bare M could be MiB or MB'],
    ['1g', 'no unit g'],
    ['128KB', 'KB is neither kB nor KiB'],
    ['128mib', 'units are case-sensitive'],
    ['128MIB', 'units are case-sensitive'],
    ['1kiB', 'units are case-sensitive'],
    ['128  MiB', 'at most one space'],
    [' 128MiB', 'no leading space'],
    ['128MiB ', 'no trailing space'],
    ['512 ', 'a space needs a unit after it'],
    ['-1MiB', 'no sign'],
    ['+1MiB', 'no sign'],
    ['1e6', 'no exponent'],
    ['1_000', 'no separators'],
    ['.5GiB', 'digits before the point'],
    ['1.GiB', 'digits after the point'],
    ['MiB', 'a number is required'],
    ['', 'empty'],
    ['1MiB1KiB', 'one unit only'],
  ])('refuses %j (%s)', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 'seconds', 90],
    ['15m', 'seconds', 900],
    ['2m', 'seconds', 120],
    ['72h', 'seconds', 72 * 3600],
    ['7d', 'seconds', 7 * 86_400],
    ['1h30m', 'seconds', 5400],
    ['1d2h3m4s', 'seconds', 93_784],
    ['1.5s', 'seconds', 1.5],
    ['90', 'seconds', 90],
    ['2d', 'hours', 48],
    ['90m', 'hours', 1.5],
    ['72h', 'hours', 72],
    ['0h', 'hours', 0],
    ['1.5h', 'hours', 1.5],
    ['36', 'hours', 36],
    ['7d', 'days', 7],
    ['12h', 'days', 0.5],
    ['1d12h', 'days', 1.5],
  ] as const)('reads %j as %d %s', (text, unit, expected) => {
    expect(value(parseDuration(text, unit))).toBe(expected);
  });

  it('keeps a fraction of the unit exactly enough to tell it from a whole number', () => {
    const second = parseDuration('1s', 'hours');
    expect(second).toEqual({ numerator: 1n, denominator: 3600n });
    expect(value(second)).toBeCloseTo(1 / 3600);
  });

  it.each([
    ['30m1h', 'largest unit first'],
    ['1h1h', 'each unit once'],
    ['1h 30m', 'no spaces'],
    ['72 h', 'no spaces'],
    ['72H', 'units are case-sensitive'],
    ['1M', 'units are case-sensitive (M is not minutes)'],
    ['2w', 'no weeks'],
    ['1ms', 'no milliseconds'],
    ['1min', 'no long unit names'],
    ['2 days', 'no long unit names'],
    ['-1h', 'no sign'],
    ['h', 'a number is required'],
    ['', 'empty'],
  ])('refuses %j (%s)', (text) => {
    expect(parseDuration(text, 'seconds')).toBeUndefined();
  });
});

describe('formatSize', () => {
  it.each([
    [128 * MiB, '128MiB'],
    [200 * GiB, '200GiB'],
    [5 * TiB, '5TiB'],
    [1024 * TiB, '1024TiB'],
    [1000, '1kB'],
    [2e9, '2GB'],
    [1_024_000, '1000KiB'],
  ])('writes %d as %j, which reads back as the same number', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(value(parseSize(text))).toBe(bytes);
  });

  it.each([1536, 1, 0, 0.5, Number.MAX_SAFE_INTEGER + 1])('leaves %d, which no unit holds exactly, a number', (bytes) => {
    expect(formatSize(bytes)).toBe(bytes);
  });
});
