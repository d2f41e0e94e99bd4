import { readFile } from 'node:fs/promises';

/** Where the test gateway is and how to reach it; the global setup exports these. */
export interface TestGateway {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  /** PID file of radosgw, for fault tests that stop or kill the gateway process. */
  readonly rgwPidFile: string;
}

const REQUIRED = [
  'BTRFS_S3_TEST_ENDPOINT',
  'BTRFS_S3_TEST_REGION',
  'BTRFS_S3_TEST_BUCKET',
  'BTRFS_S3_TEST_RGW_PID_FILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

/** The running test gateway. Fails (never skips) when the global setup did not provide one. */
export function testGateway(env: NodeJS.ProcessEnv = process.env): TestGateway {
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`no test gateway: ${missing.join(', ')} unset; run integration tests through jest's global setup (tools/testenv)`);
  }
  return {
    endpoint: env.BTRFS_S3_TEST_ENDPOINT ?? '',
    region: env.BTRFS_S3_TEST_REGION ?? '',
    bucket: env.BTRFS_S3_TEST_BUCKET ?? '',
    rgwPidFile: env.BTRFS_S3_TEST_RGW_PID_FILE ?? '',
  };
}

/** Parses the `KEY=value` env file that `rgw.sh start` writes. */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8');
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as const;
    });
  return Object.fromEntries(entries);
}
