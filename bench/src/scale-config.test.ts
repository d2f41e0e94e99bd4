import { cliNodeFlags, shebangNodeFlags, sinkConfig } from './scale-config';

describe('shebangNodeFlags', () => {
  it('reads the flags of an env -S shebang, and none of a plain one', () => {
    expect(shebangNodeFlags('#!/usr/bin/env -S node --max-semi-space-size=1 --foo\nrequire(1)')).toEqual([
      '--max-semi-space-size=1',
      '--foo',
    ]);
    expect(shebangNodeFlags('#!/usr/bin/env node\n')).toEqual([]);
  });

  it('refuses a file that is not a node script', () => {
    expect(() => shebangNodeFlags('#!/bin/sh\n')).toThrow(/not a node shebang/);
  });

  it("finds the CLI executable's flags in this repository", () => {
    expect(cliNodeFlags()).toContain('--max-semi-space-size=1');
  });
});

describe('sinkConfig', () => {
  it('points the defaults at the sink, path-style, with the layout asked for', () => {
    const { s3 } = sinkConfig('http://127.0.0.1:1234', { chunkSizeBytes: 2 ** 30, partSizeBytes: 16 * 2 ** 20 });
    expect(s3).toMatchObject({
      endpoint: 'http://127.0.0.1:1234',
      path_style: true,
      chunk_size_bytes: 2 ** 30,
      part_size_bytes: 16 * 2 ** 20,
    });
    expect(s3.concurrency).toBe(4);
  });
});
