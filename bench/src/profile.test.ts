import { CATEGORY, categorize, type CpuProfile, frameName, summarizeProfiles } from './profile';

const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber });
const STORE = '/work/main/packages/s3-store/dist/upload.js';
const SDK = '/work/main/node_modules/.pnpm/@smithy+node-http-handler@4.0.0/node_modules/@smithy/node-http-handler/dist-cjs/index.js';

/** Samples 1 ms apart: idle 5, GC 1, hashing 2, our splitter 1, the SDK 1. */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('(garbage collector)') },
    { id: 4, callFrame: frame('digest') },
    { id: 5, callFrame: frame('splitStream', `file://${STORE}`, 41) },
    { id: 6, callFrame: frame('writeRequest', SDK, 99) },
  ],
  samples: [2, 2, 2, 2, 2, 3, 4, 4, 5, 6],
  timeDeltas: [500, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('categorize', () => {
  it.each([
    [frame('(idle)'), CATEGORY.idle],
    [frame('(garbage collector)'), CATEGORY.gc],
    [frame('(program)'), CATEGORY.program],
    [frame('update'), CATEGORY.native],
    [frame('readableAddChunk', 'node:internal/streams/readable', 1), CATEGORY.node],
    [frame('send', '/x/node_modules/.pnpm/@aws-sdk+client-s3@3/node_modules/@aws-sdk/client-s3/dist-cjs/index.js'), CATEGORY.sdk],
    [frame('run', '/x/node_modules/@oclif/core/lib/main.js'), CATEGORY.oclif],
    [frame('parse', '/x/node_modules/.pnpm/smol-toml@1/node_modules/smol-toml/dist/index.js'), CATEGORY.deps],
    [frame('splitStream', `file://${STORE}`), CATEGORY.ours],
  ])('%p is %s', (f, category) => {
    expect(categorize(f)).toBe(category);
  });
});

describe('frameName', () => {
  it('names the package and the line', () => {
    expect(frameName(frame('splitStream', `file://${STORE}`, 41))).toBe('splitStream upload.js:42 (s3-store)');
    expect(frameName(frame('writeRequest', SDK, 99))).toBe('writeRequest index.js:100 (@smithy/node-http-handler)');
    expect(frameName(frame('digest'))).toBe('digest (native)');
    expect(frameName(frame('', 'node:internal/streams/readable', 9))).toBe('(anonymous) node:internal/streams/readable:10');
  });
});

describe('summarizeProfiles', () => {
  const summary = summarizeProfiles([PROFILE]);

  it('gives each category its self time and share', () => {
    expect(summary.totalMs).toBeCloseTo(10, 6);
    expect(summary.categories[0]).toEqual({ name: CATEGORY.idle, ms: 5, share: 0.5 });
    expect(summary.categories.find((c) => c.name === CATEGORY.native)?.ms).toBeCloseTo(2, 6);
    expect(summary.categories.find((c) => c.name === CATEGORY.ours)?.share).toBeCloseTo(0.1, 6);
  });

  it('ranks functions by self time, leaving out idle', () => {
    expect(summary.top.map((entry) => entry.name)).toEqual([
      'digest (native)',
      '(garbage collector)',
      'splitStream upload.js:42 (s3-store)',
      'writeRequest index.js:100 (@smithy/node-http-handler)',
    ]);
  });

  it('merges the threads of one run', () => {
    const merged = summarizeProfiles([PROFILE, PROFILE]);
    expect(merged.threads).toBe(2);
    expect(merged.totalMs).toBeCloseTo(20, 6);
    expect(merged.categories[0]?.share).toBeCloseTo(0.5, 6);
  });
});
