import { TailBuffer } from './tail-buffer';

describe('TailBuffer', () => {
  it('keeps everything up to its limit', () => {
    const buffer = new TailBuffer(10);
    buffer.push(Buffer.from('abc'));
    buffer.push(Buffer.from('defg'));
    expect(buffer.text()).toBe('abcdefg');
  });

  it('keeps only the last `limit` bytes across many chunks and one oversized chunk', () => {
    const buffer = new TailBuffer(5);
    for (const chunk of ['abc', 'def', 'ghi']) buffer.push(Buffer.from(chunk));
    expect(buffer.text()).toBe('efghi');
    buffer.push(Buffer.from('0123456789'));
    expect(buffer.text()).toBe('56789');
  });
});
