import { parseRestoreHeader } from './restore-header';

const EXPIRY = 'Fri, 21 Dec 2012 00:00:00 GMT';

describe('parseRestoreHeader', () => {
  it('reads a missing header as no restore requested', () => {
    expect(parseRestoreHeader(undefined)).toEqual({ state: 'absent' });
  });

  it('reads ongoing-request="true" as a restore in progress', () => {
    expect(parseRestoreHeader('ongoing-request="true"')).toEqual({ state: 'ongoing' });
  });

  it('reads ongoing-request="false" with an expiry date as restored until that date, despite the comma inside the date', () => {
    expect(parseRestoreHeader(`ongoing-request="false", expiry-date="${EXPIRY}"`)).toEqual({
      state: 'restored',
      expiresAt: new Date('2012-12-21T00:00:00.000Z'),
    });
  });

  it('reads ongoing-request="false" without an expiry date as restored with no expiry (Intelligent-Tiering)', () => {
    expect(parseRestoreHeader('ongoing-request="false"')).toEqual({ state: 'restored', expiresAt: undefined });
  });

  it('accepts other spacing, capitalised names and fields it does not use', () => {
    expect(parseRestoreHeader(`  Ongoing-Request = "false" ,expiry-date="${EXPIRY}", restore-tier="Bulk",`)).toEqual({
      state: 'restored',
      expiresAt: new Date('2012-12-21T00:00:00.000Z'),
    });
  });

  it.each([
    ['', 'the header is empty'],
    ['   ', 'the header is empty'],
    ['ongoing-request=true', 'expected name="value" at character 1'],
    ['ongoing-request="true', 'expected name="value" at character 1'],
    ['ongoing-request="true" trailing', 'expected a comma at character 24'],
    ['ongoing-request="true"; expiry-date="x"', 'expected a comma at character 23'],
    ['ongoing-request="false",, expiry-date="x"', 'expected name="value" at character 25'],
    [`expiry-date="${EXPIRY}"`, 'ongoing-request is missing'],
    ['ongoing-request="maybe"', 'ongoing-request is "maybe", not "true" or "false"'],
    ['ongoing-request="false", expiry-date="next Tuesday"', 'expiry-date "next Tuesday" is not a date'],
    ['ongoing-request="true", ongoing-request="false"', 'ongoing-request appears twice'],
  ])('reports %j as malformed: %s', (value, reason) => {
    expect(parseRestoreHeader(value)).toEqual({ state: 'malformed', value, reason });
  });
});
