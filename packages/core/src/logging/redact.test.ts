import { REDACTED, redactText, redactValue, secretsFromEnv } from './redact';

describe('redaction', () => {
  it('collects only the credential variables, ignoring short values', () => {
    expect(
      secretsFromEnv({
        AWS_SECRET_ACCESS_KEY: 'longsecretvalue',
        AWS_SESSION_TOKEN: 'short',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE1',
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'bearer-token-1',
        HOME: '/root',
      }),
    ).toEqual(['longsecretvalue', 'AKIAEXAMPLE1', 'bearer-token-1']);
  });

  it('replaces every occurrence of a secret and URL user info', () => {
    expect(redactText('a s3cr3tvalue b s3cr3tvalue http://k:s@h/x', ['s3cr3tvalue'])).toBe(
      `a ${REDACTED} b ${REDACTED} http://${REDACTED}@h/x`,
    );
  });

  it('copies values deeply without changing the original', () => {
    const original = { list: ['s3cr3tvalue', 1], password: 'x', empty: null, nested: { ok: true } };
    expect(redactValue(original, ['s3cr3tvalue'])).toEqual({ list: [REDACTED, 1], password: REDACTED, empty: null, nested: { ok: true } });
    expect(original.list[0]).toBe('s3cr3tvalue');
  });

  it('turns errors into their redacted message', () => {
    expect(redactValue({ error: new Error('key s3cr3tvalue') }, ['s3cr3tvalue'])).toEqual({ error: `key ${REDACTED}` });
  });
});
