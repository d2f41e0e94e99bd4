import { parseAt } from '../src/commands/restore';

describe('restore --at parsing', () => {
  it('takes an ISO 8601 time with an offset as that instant', () => {
    expect(parseAt('2026-12-01T18:00:00Z').toISOString()).toBe('2026-12-01T18:00:00.000Z');
    expect(parseAt('2026-12-01T18:00:00+01:00').toISOString()).toBe('2026-12-01T17:00:00.000Z');
  });

  it('takes a time without an offset as local time, and a date alone as the end of that day, local time', () => {
    expect(parseAt('2026-12-01T18:00').getTime()).toBe(new Date(2026, 11, 1, 18, 0).getTime());
    expect(parseAt('2026-12-01').getTime()).toBe(new Date(2026, 11, 1, 23, 59, 59, 999).getTime());
  });

  it('refuses anything else, naming --at and showing the accepted forms, with the usage exit code', () => {
    for (const text of ['yesterday', '2026-13-01', '12/01/2026', '2026-12-01T25:00']) {
      expect(() => parseAt(text)).toThrow(
        expect.objectContaining({ message: expect.stringContaining(`--at: "${text}" is not an ISO 8601 time`), oclif: { exit: 2 } }),
      );
    }
  });
});
