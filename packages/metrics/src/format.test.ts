import { formatBytes, formatRate, throughput } from './format';

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [128 * 1024 * 1024, '128.0 MiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
    [3 * 1024 ** 6, '3072.0 PiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('computes throughput and guards zero elapsed time', () => {
    expect(throughput(1000, 4)).toBe(250);
    expect(throughput(1000, 0)).toBe(0);
    expect(formatRate(3 * 1024 * 1024, 2)).toBe('1.5 MiB/s');
    expect(formatRate(434, 1.876)).toBe('231 B/s');
  });
});
