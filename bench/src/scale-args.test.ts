import { UsageError } from './args';
import { defaultChunkSize, parseBytes, parseScaleArgs } from './scale-args';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('parseScaleArgs', () => {
  it('defaults to 50 GiB in 10 GiB chunks with the config part size, then three pairs of 2 GiB runs against 8 MiB parts', () => {
    expect(parseScaleArgs([], 128 * MiB)).toEqual({
      sizeBytes: 50 * GiB,
      chunkSizeBytes: 10 * GiB,
      partSizeBytes: 128 * MiB,
      overhead: { sizeBytes: 2 * GiB, chunkSizeBytes: 384 * MiB, smallPartSizeBytes: 8 * MiB, rounds: 3 },
      warmupSeconds: 60,
    });
  });

  it('keeps several chunks in a quick check, and pairs no longer than the main run', () => {
    const args = parseScaleArgs(['--', '--size', '1G', '--overhead-rounds', '1', '--json', 'out.json'], 128 * MiB);
    expect(args).toMatchObject({ sizeBytes: GiB, chunkSizeBytes: 128 * MiB, jsonPath: 'out.json' });
    expect(args.overhead).toEqual({ sizeBytes: GiB, chunkSizeBytes: 128 * MiB, smallPartSizeBytes: 8 * MiB, rounds: 1 });
  });

  it('runs no per-part run with --skip-overhead', () => {
    expect(parseScaleArgs(['--skip-overhead'], 128 * MiB).overhead).toBeUndefined();
  });

  it('refuses pairs without smaller parts, and unknown options', () => {
    expect(() => parseScaleArgs(['--overhead-part-size', '128M'], 128 * MiB)).toThrow(/must be smaller/);
    expect(() => parseScaleArgs(['--overhead-rounds', '0'], 128 * MiB)).toThrow(/whole number/);
    expect(() => parseScaleArgs(['--rounds', '3'], 128 * MiB)).toThrow(UsageError);
  });
});

describe('parseBytes', () => {
  it('reads binary units and refuses sizes below the minimum', () => {
    expect(parseBytes('1.5GiB', 'size', 0)).toBe(1.5 * GiB);
    expect(parseBytes('16M', 'part-size', 5 * MiB)).toBe(16 * MiB);
    expect(() => parseBytes('4M', 'part-size', 5 * MiB)).toThrow('--part-size: 4M is below the 5M minimum');
    expect(() => parseBytes('lots', 'size', 0)).toThrow(/not a size/);
  });
});

describe('defaultChunkSize', () => {
  it('is a fifth of the run in whole parts, between one part and 10 GiB', () => {
    expect(defaultChunkSize(50 * GiB, 128 * MiB)).toBe(10 * GiB);
    expect(defaultChunkSize(500 * GiB, 128 * MiB)).toBe(10 * GiB);
    expect(defaultChunkSize(1 * GiB, 128 * MiB)).toBe(128 * MiB);
    expect(defaultChunkSize(256 * MiB, 128 * MiB)).toBe(128 * MiB);
  });
});
