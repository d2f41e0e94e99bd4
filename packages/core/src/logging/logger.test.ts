import { PassThrough } from 'node:stream';
import { createLogger, type LoggerOptions } from './logger';
import { REDACTED } from './redact';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function capture(options: Omit<LoggerOptions, 'stream'>): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger({ ...options, stream });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('createLogger', () => {
  it('writes human lines with time, level, message and fields', () => {
    const { logger, lines } = capture({ level: 'info', format: 'human', env: {}, color: false });
    logger.info('uploaded chunk', { subvolume: 'data', bytes: 42 });
    expect(lines()).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d info uploaded chunk subvolume=data bytes=42$/)]);
  });

  it('colours the level on a terminal', () => {
    const { logger, lines } = capture({ level: 'info', format: 'human', env: {}, color: true });
    logger.warn('careful');
    expect(lines()[0]).toContain('\u001b[');
  });

  it('writes one JSON object per line with --log-format json', () => {
    const { logger, lines } = capture({ level: 'info', format: 'json', env: {} });
    logger.error('failed', { subvolume: 'home' });
    const [line = ''] = lines();
    expect(JSON.parse(line)).toEqual({ level: 'error', message: 'failed', subvolume: 'home', timestamp: expect.any(String) });
  });

  it('prefixes journald priorities when JOURNAL_STREAM is set', () => {
    const { logger, lines } = capture({ level: 'debug', format: 'human', env: { JOURNAL_STREAM: '8:1234' } });
    logger.error('e');
    logger.warn('w');
    logger.info('i');
    logger.debug('d');
    expect(lines()).toEqual(['<3>e', '<4>w', '<6>i', '<7>d']);
  });

  it('drops messages below the level', () => {
    const { logger, lines } = capture({ level: 'warn', format: 'human', env: {}, color: false });
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    expect(lines()).toEqual([expect.stringMatching(/ warn shown$/)]);
  });

  it('redacts secrets from the environment, URL user info and secret-named fields', () => {
    const { logger, lines } = capture({ level: 'info', format: 'json', env: { AWS_SECRET_ACCESS_KEY: SECRET } });
    logger.info(`request signed with ${SECRET}`, {
      endpoint: 'https://user:pw@s3.example.com',
      secretAccessKey: 'abc',
      nested: { note: SECRET },
    });
    const output = lines().join('\n');
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain('user:pw');
    expect(JSON.parse(lines()[0] ?? '{}')).toMatchObject({
      message: `request signed with ${REDACTED}`,
      endpoint: `https://${REDACTED}@s3.example.com`,
      secretAccessKey: REDACTED,
      nested: { note: REDACTED },
    });
  });

  it('redacts secrets in logged errors', () => {
    const { logger, lines } = capture({ level: 'info', format: 'human', env: { AWS_SESSION_TOKEN: SECRET }, color: false });
    logger.error(new Error(`token ${SECRET} rejected`));
    expect(lines().join('\n')).toContain(`token ${REDACTED} rejected`);
    expect(lines().join('\n')).not.toContain(SECRET);
  });
});
