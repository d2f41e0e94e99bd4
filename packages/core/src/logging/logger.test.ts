import { createWriteStream, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it.each([
    ['a terminal', {}, true, true],
    ['a pipe', {}, false, false],
    ['NO_COLOR on a terminal', { NO_COLOR: '1' }, true, false],
    ['an empty NO_COLOR on a terminal', { NO_COLOR: '' }, true, true],
    ['FORCE_COLOR in a pipe', { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 on a terminal', { FORCE_COLOR: '0' }, true, false],
    ['NO_COLOR and FORCE_COLOR', { NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
  ])('colours by default as NO_COLOR, FORCE_COLOR and the terminal say: %s', (_name, env, isTTY, coloured) => {
    const stream = Object.assign(new PassThrough(), { isTTY });
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    createLogger({ level: 'info', format: 'human', env, stream }).warn('careful');
    expect(chunks.join('').includes('\u001b[')).toBe(coloured);
  });

  it('writes one JSON object per line with --log-format json', () => {
    const { logger, lines } = capture({ level: 'info', format: 'json', env: {} });
    logger.error('failed', { subvolume: 'home' });
    const [line = ''] = lines();
    expect(JSON.parse(line)).toEqual({ level: 'error', message: 'failed', subvolume: 'home', timestamp: expect.any(String) });
  });

  describe('under systemd', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'journal-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** Logs to a file (an fd, as stderr is) with JOURNAL_STREAM naming `named` (default: that file). */
    async function toFile(named?: (own: string) => string): Promise<string[]> {
      const path = join(dir, 'stderr');
      const fd = openSync(path, 'w');
      const stats = fstatSync(fd);
      const own = `${stats.dev}:${stats.ino}`;
      const stream = createWriteStream('', { fd });
      const logger = createLogger({ level: 'debug', format: 'human', color: false, env: { JOURNAL_STREAM: named?.(own) ?? own }, stream });
      logger.error('e');
      logger.warn('w');
      logger.info('i');
      logger.debug('d');
      logger.end();
      await new Promise((resolve) => stream.end(resolve));
      return readFileSync(path, 'utf8').split('\n').filter(Boolean);
    }

    it('prefixes journald priorities when the stream is the one JOURNAL_STREAM names', async () => {
      expect(await toFile()).toEqual(['<3>e', '<4>w', '<6>i', '<7>d']);
    });

    it.each([
      [
        'another stream (stderr redirected by a command the unit runs)',
        (own: string) => own.replace(/\d+$/, (ino) => String(Number(ino) + 1)),
      ],
      ['a malformed value', () => 'journal'],
    ])('writes plain lines when JOURNAL_STREAM names %s', async (_name, named) => {
      expect(await toFile(named)).toEqual([
        expect.stringMatching(/ error e$/),
        expect.stringMatching(/ warn w$/),
        expect.stringMatching(/ info i$/),
        expect.stringMatching(/ debug d$/),
      ]);
    });

    it('writes plain lines to a stream without a file descriptor', () => {
      const { logger, lines } = capture({ level: 'info', format: 'human', color: false, env: { JOURNAL_STREAM: '8:1234' } });
      logger.info('i');
      expect(lines()).toEqual([expect.stringMatching(/\d info i$/)]);
    });
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
