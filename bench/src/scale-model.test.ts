import { FIVE_TIB, type MeasuredCosts, modelUpload } from './scale-model';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const costs: MeasuredCosts = {
  perByte: 4 / GiB,
  perPart: 0.02,
  fixedCpuSeconds: 3,
  peakRssBytes: 560 * MiB,
  partsMeasured: 400,
  heapPerPartBytes: 500,
};

describe('modelUpload at 5 TiB', () => {
  const model = modelUpload(FIVE_TIB, costs, [100e6, 1e9, 100e9]);

  it('cuts 26 chunks, the last of 120 GiB, and 1,600 parts in a full chunk', () => {
    expect(model.chunks).toBe(26);
    expect(model.partsPerFullChunk).toBe(1600);
    expect(model.parts).toBe(25 * 1600 + 960);
  });

  it('counts the requests: one ListParts page per 1,000 parts, and Create, Complete and HeadObject per chunk', () => {
    expect(model.requests).toEqual({
      createMultipartUpload: 26,
      uploadPart: 40960,
      listParts: 25 * 2 + 1,
      completeMultipartUpload: 26,
      headObject: 26,
      total: 40960 + 51 + 3 * 26,
    });
  });

  it('adds CPU per byte, per part and per run', () => {
    expect(model.cpu.bytes).toBeCloseTo(4 * 5120);
    expect(model.cpu.parts).toBeCloseTo(0.02 * 40960);
    expect(model.cpu.total).toBeCloseTo(4 * 5120 + 0.02 * 40960 + 3);
  });

  it('carries the measured peak over, plus what the parts beyond the run keep', () => {
    expect(model.memory).toEqual({
      pool: 512 * MiB,
      measuredPeak: 560 * MiB,
      moreParts: 500 * (40960 - 400),
      peak: 560 * MiB + 500 * (40960 - 400),
      bound: 612 * MiB,
    });
  });

  it('takes the uplink time unless the client CPU is slower', () => {
    const [slow, gigabit, fast] = model.rates;
    expect(slow?.linkSeconds).toBeCloseTo((5 * 2 ** 40 * 8) / 100e6);
    expect(slow).toMatchObject({ boundBy: 'uplink' });
    expect(gigabit?.seconds).toBeCloseTo((5 * 2 ** 40 * 8) / 1e9);
    expect(gigabit?.cores).toBeCloseTo(model.cpu.total / ((5 * 2 ** 40 * 8) / 1e9));
    expect(fast).toMatchObject({ boundBy: 'client CPU', seconds: model.cpu.total, cores: 1 });
  });

  it('gives the client ceiling from the cost of a byte and its share of a part', () => {
    expect(model.clientCeilingBytesPerSecond).toBeCloseTo(1 / (4 / GiB + 0.02 / (128 * MiB)));
  });
});
