import { isChildReport, parseChildRequest } from './scale-protocol';

describe('parseChildRequest', () => {
  it('reads the request, leaving out the settings the config defaults', () => {
    expect(parseChildRequest('{"endpoint":"http://127.0.0.1:1","sizeBytes":100,"chunkSizeBytes":10}')).toEqual({
      endpoint: 'http://127.0.0.1:1',
      sizeBytes: 100,
      chunkSizeBytes: 10,
    });
  });

  it('refuses a request without its sizes or with a size that is not a positive integer', () => {
    expect(() => parseChildRequest('{"endpoint":"x","sizeBytes":100}')).toThrow(/required/);
    expect(() => parseChildRequest('{"endpoint":"x","sizeBytes":1.5,"chunkSizeBytes":1}')).toThrow('sizeBytes must be a positive integer');
  });
});

describe('isChildReport', () => {
  it('takes a done or a failed report and nothing else', () => {
    expect(isChildReport({ kind: 'failed', message: 'no' })).toBe(true);
    expect(isChildReport({ kind: 'done', totalBytes: 1, heap: [] })).toBe(true);
    expect(isChildReport({ kind: 'done' })).toBe(false);
    expect(isChildReport('done')).toBe(false);
  });
});
