import { ExitCode } from '@org/btrfs-s3-core';
import { type CliResult, type Env, withLoopBtrfs } from '@org/testenv';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliAsync } from './cli';
import { closedPortUrl, type FakeS3Endpoint, type Responder, signatureDoesNotMatch, startFakeS3Endpoint } from './fake-s3-endpoint';

/**
 * Fault case 9: credentials never appear in logs, errors or `config show`, on success
 * and on failure paths. The CLI runs with known fake credentials; every byte it prints
 * (stdout and stderr) is searched for them. Each case also asserts what the output
 * does say, so a run that printed nothing at all could not pass.
 */

// Shaped like real ones: a secret key has `/` and `+`, a session token is long base64.
const ACCESS_KEY_ID = 'AKIAFAKEACCESSKEY0009';
const SECRET = 'fAkE/SeCrEt+KeY0123456789abcdEXAMPLEKEY1';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEFAKE//SessionToken+0123456789abcdefEXAMPLEtoken=';
/** A password in an endpoint URL: not an AWS variable, so only its shape can give it away. */
const URL_PASSWORD = 'url-password-9f8e7d6c';

const CREDENTIALS: Env = { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: SESSION_TOKEN };

/** Asserts no credential appears in the output, also not split by line wrapping or URL-encoded. */
function expectNoCredentials(result: CliResult): void {
  const output = `${result.stdout}\n${result.stderr}`;
  // oclif wraps long lines and prefixes them with ` ›`; glued back together, a wrapped secret would show.
  const unwrapped = output.replace(/\s|›/g, '');
  for (const secret of [SECRET, SESSION_TOKEN, ACCESS_KEY_ID, URL_PASSWORD]) {
    for (const form of [secret, encodeURIComponent(secret)]) {
      expect(output).not.toContain(form);
      expect(unwrapped).not.toContain(form);
    }
  }
}

interface Setup {
  readonly root: string;
  readonly config: string;
  readonly server: FakeS3Endpoint;
}

function configText(root: string, snapshots: string, endpoint: string): string {
  return `
[global]
state_path = "${root}/state/state.json"
lock_path = "${root}/state/run.lock"
metrics_path = "${root}/state/metrics.json"
[snapshots]
base_dir = "${snapshots}/snapshots"
[subvolumes]
paths = ["${snapshots}/data"]
[s3]
bucket = "fault-bucket"
region = "us-east-1"
prefix = "credentials"
endpoint = "${endpoint}"
path_style = true
checksum_mode = "when_required"
part_size_bytes = 5242880
chunk_size_bytes = 15728640
`;
}

interface SetupOptions {
  /** How the fake S3 answers (default: every request refused with SignatureDoesNotMatch). */
  readonly respond?: Responder;
  /** Put snapshots.base_dir on a fresh loop Btrfs: a backup refuses a snapshot dir elsewhere before it reaches S3. */
  readonly btrfs?: boolean;
}

/** A temp dir with a config for the fake S3, removed afterwards with the fake S3 and any loop Btrfs. */
async function withSetup(options: SetupOptions, body: (setup: Setup) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'credentials-'));
  const server = await startFakeS3Endpoint(options.respond);
  try {
    const config = join(root, 'config.toml');
    const withSnapshotsIn = async (dir: string) => {
      writeFileSync(config, configText(root, dir, server.url));
      await body({ root, config, server });
    };
    await (options.btrfs === true ? withLoopBtrfs(withSnapshotsIn) : withSnapshotsIn(root));
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const run = (setup: Setup, args: readonly string[], env: Env = {}) =>
  cliAsync([...args, '--config', setup.config], { HOME: setup.root, ...CREDENTIALS, ...env });

/** HEAD succeeds (so a restore finds current.json), every GET is refused as S3 refuses a bad signature. */
const headOkGetRefused: Responder = (request) => (request.method === 'HEAD' ? { status: 200 } : signatureDoesNotMatch(request));

/** The JSON log lines of a `--log-format json` run's stderr (the SDK's own Node warning is not one). */
function jsonLines(stderr: string): { level: string; message: string }[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; message: string });
}

describe('credentials never appear in output', () => {
  it.concurrent('config show prints the effective config and redacts a credential that ended up in a value', async () => {
    await withSetup({}, async (setup) => {
      const result = await run(setup, ['config', 'show'], { BTRFS_TO_S3__S3__PREFIX: `backups-${SECRET}` });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`endpoint = "${setup.server.url}"`);
      expect(result.stdout).toContain('prefix = "backups-[REDACTED]"');
      expectNoCredentials(result);
      expect(setup.server.requests).toEqual([]);
    });
  });

  it.concurrent('config show --json redacts the same way', async () => {
    await withSetup({}, async (setup) => {
      const result = await run(setup, ['config', 'show', '--json', '--log-level', 'debug'], {
        BTRFS_TO_S3__S3__PREFIX: `backups-${SECRET}`,
      });
      expect(result.code).toBe(0);
      const shown = JSON.parse(result.stdout) as { s3: { endpoint: string; prefix: string } };
      expect(shown.s3).toMatchObject({ endpoint: setup.server.url, prefix: 'backups-[REDACTED]' });
      expectNoCredentials(result);
    });
  });

  it.concurrent(
    'a backup the store refuses (403 SignatureDoesNotMatch echoing the signed request) names the cause, at debug level, without the credentials',
    async () => {
      await withSetup({ btrfs: true }, async (setup) => {
        const result = await run(setup, ['backup', '--once', '--log-level', 'debug']);
        expect(result.code).toBe(ExitCode.Fatal);
        // The first request of a backup reads current.json (whose writer it checks).
        expect(result.stderr).toMatch(/error S3 GetObject \S+current\.json failed: SignatureDoesNotMatch \(HTTP 403\)/);
        // The credentials were in play: the request carried the session token, which the store's error body echoed back.
        expect(setup.server.requests[0]?.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
        expect(setup.server.responses[0]?.body).toContain(SESSION_TOKEN);
        expectNoCredentials(result);
      });
    },
  );

  it.concurrent('the same refused backup with --log-format json logs JSON lines without the credentials', async () => {
    await withSetup({ btrfs: true }, async (setup) => {
      const result = await run(setup, ['backup', '--once', '--log-format', 'json', '--log-level', 'debug']);
      expect(result.code).toBe(ExitCode.Fatal);
      expect(jsonLines(result.stderr)).toContainEqual(
        expect.objectContaining({ level: 'error', message: expect.stringContaining('SignatureDoesNotMatch (HTTP 403)') }),
      );
      expectNoCredentials(result);
    });
  });

  it.concurrent('the same refused backup with --json reports the error object without the credentials', async () => {
    await withSetup({ btrfs: true }, async (setup) => {
      const result = await run(setup, ['backup', '--once', '--json']);
      expect(result.code).toBe(ExitCode.Fatal);
      const { error } = JSON.parse(result.stdout) as { error: { message: string; exitCode: number } };
      expect(error).toMatchObject({ exitCode: ExitCode.Fatal, message: expect.stringContaining('SignatureDoesNotMatch (HTTP 403)') });
      expectNoCredentials(result);
    });
  });

  it.concurrent(
    'a backup whose endpoint (an override with user:password@) refuses connections fails after its retries, naming the cause, without the credentials',
    async () => {
      const closed = new URL(await closedPortUrl()).host;
      await withSetup({ btrfs: true }, async (setup) => {
        const result = await run(setup, ['backup', '--once', '--log-level', 'debug'], {
          BTRFS_TO_S3__S3__ENDPOINT: `http://${ACCESS_KEY_ID}:${URL_PASSWORD}@${closed}`,
        });
        expect(result.code).toBe(ExitCode.Fatal);
        expect(result.stderr).toContain(`failed: connect ECONNREFUSED ${closed}`);
        expectNoCredentials(result);
      });
    },
  );

  it.concurrent(
    'a failing restore (GET refused with 403) names the cause, leaves no target and shows no credentials, in JSON logs too',
    async () => {
      await withSetup({ respond: headOkGetRefused }, async (setup) => {
        const target = join(setup.root, 'restored');
        const result = await run(setup, [
          'restore',
          '--subvolume',
          'data',
          '--target',
          target,
          '--log-format',
          'json',
          '--log-level',
          'debug',
        ]);
        expect(result.code).toBe(ExitCode.Fatal);
        expect(jsonLines(result.stderr)).toContainEqual(
          expect.objectContaining({
            level: 'error',
            message: expect.stringMatching(/S3 GetObject .*current\.json failed: SignatureDoesNotMatch \(HTTP 403\)/),
          }),
        );
        expect(existsSync(target)).toBe(false);
        expectNoCredentials(result);
      });
    },
  );

  it.concurrent('an endpoint override with user:password@ shows in config show and --json with the user info redacted', async () => {
    await withSetup({}, async (setup) => {
      const host = new URL(setup.server.url).host;
      const env = { BTRFS_TO_S3__S3__ENDPOINT: `http://${ACCESS_KEY_ID}:${URL_PASSWORD}@${host}` };
      const human = await run(setup, ['config', 'show'], env);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`endpoint = "http://[REDACTED]@${host}"`);
      expectNoCredentials(human);
      const json = await run(setup, ['config', 'show', '--json'], env);
      expect(json.code).toBe(0);
      expect((JSON.parse(json.stdout) as { s3: { endpoint: string } }).s3.endpoint).toBe(`http://[REDACTED]@${host}`);
      expectNoCredentials(json);
      expect(setup.server.requests).toEqual([]);
    });
  });

  it.concurrent(
    'an endpoint override that is user:password@host without a scheme is refused with the user info masked, also in --json issues',
    async () => {
      await withSetup({}, async (setup) => {
        const result = await run(setup, ['config', 'validate', '--json'], {
          BTRFS_TO_S3__S3__ENDPOINT: `${ACCESS_KEY_ID}:${URL_PASSWORD}@storage.internal`,
        });
        expect(result.code).toBe(ExitCode.Usage);
        const { error } = JSON.parse(result.stdout) as { error: { issues: { key: string; message: string }[] } };
        expect(error.issues).toEqual([{ key: 's3.endpoint', message: expect.stringContaining('got "[REDACTED]@storage.internal"') }]);
        expectNoCredentials(result);
      });
    },
  );

  it.concurrent('a credential given as a config value is redacted from the --json issues that quote it', async () => {
    await withSetup({}, async (setup) => {
      const result = await run(setup, ['backup', '--json'], { BTRFS_TO_S3__S3__BUCKET: SECRET });
      expect(result.code).toBe(ExitCode.Usage);
      const { error } = JSON.parse(result.stdout) as { error: { message: string; issues: { key: string; message: string }[] } };
      expect(error.issues).toEqual([{ key: 's3.bucket', message: expect.stringContaining('got "[REDACTED]"') }]);
      expect(error.message).toContain('s3.bucket: must be a valid bucket name');
      expectNoCredentials(result);
      expect(setup.server.requests).toEqual([]);
    });
  });

  it.concurrent('a credential pasted into a flag value is redacted from the usage error', async () => {
    await withSetup({}, async (setup) => {
      const result = await run(setup, ['backup', '--log-level', SECRET]);
      expect(result.code).toBe(ExitCode.Usage);
      // oclif wraps the line and prefixes the continuation with ` ›`.
      expect(result.stderr.replace(/\n\s*›?\s*/g, ' ').replace(/\s+/g, ' ')).toContain(
        'Expected --log-level=[REDACTED] to be one of: error, warn, info, debug',
      );
      expectNoCredentials(result);
    });
  });

  it.concurrent('a credential typed where a command name goes is redacted from "command not found"', async () => {
    await withSetup({}, async (setup) => {
      const result = await run(setup, ['backup', SECRET]);
      expect(result.code).toBe(ExitCode.Usage);
      expect(result.stderr).toContain('command backup [REDACTED] not found');
      expectNoCredentials(result);
      expect(setup.server.requests).toEqual([]);
    });
  });
});
