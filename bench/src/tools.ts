// Each tool's command line, as one bash command that /usr/bin/time measures. Pipelines
// measure both sides (`time -v -o A send | time -v -o B uploader`) under `pipefail`, and
// the harness times the whole command. Peers get the same part size and concurrency as ours
// where they have the knobs, and SSE-S3 as ours sends it (AWS encrypts at rest by default, so
// a real store does that work for every tool; this gateway only does it when asked).
export const AWS = '/usr/bin/aws'; // Debian's awscli v2, not a pip-installed v1 earlier on PATH
export const TIME = '/usr/bin/time';
export const RCLONE_REMOTE = 'bench';

/** Single-quotes a word for bash. */
export function q(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function timed(timeFile: string, command: string): string {
  return `${TIME} -v -o ${q(timeFile)} ${command}`;
}

export interface Gateway {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Tuning {
  readonly partSizeBytes: number;
  readonly concurrency: number;
  readonly chunkSizeBytes?: number;
}

/** awscli reads its transfer settings from the config file only. */
export function awsConfigFile(gateway: Gateway, tuning: Tuning): string {
  const mb = Math.round(tuning.partSizeBytes / 2 ** 20);
  return [
    '[default]',
    `region = ${gateway.region}`,
    's3 =',
    `  multipart_chunksize = ${mb}MB`,
    `  max_concurrent_requests = ${tuning.concurrency}`,
    '',
  ].join('\n');
}

export function awsEnv(gateway: Gateway, configFile: string): Record<string, string> {
  return {
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_ACCESS_KEY_ID: gateway.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gateway.secretAccessKey,
    AWS_DEFAULT_REGION: gateway.region,
    AWS_PAGER: '',
  };
}

/**
 * An rclone remote named `bench`, configured through the environment alone. rclone fails on
 * an AWS_CA_BUNDLE it cannot apply to its transport, and the endpoint is plain HTTP.
 */
export function rcloneEnv(gateway: Gateway): Record<string, string | null> {
  const prefix = `RCLONE_CONFIG_${RCLONE_REMOTE.toUpperCase()}_`;
  return {
    [`${prefix}TYPE`]: 's3',
    [`${prefix}PROVIDER`]: 'Ceph',
    [`${prefix}ENDPOINT`]: gateway.endpoint,
    [`${prefix}REGION`]: gateway.region,
    [`${prefix}ACCESS_KEY_ID`]: gateway.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: gateway.secretAccessKey,
    [`${prefix}FORCE_PATH_STYLE`]: 'true',
    RCLONE_CONFIG: '/dev/null',
    AWS_CA_BUNDLE: null,
  };
}

export interface OurConfig {
  readonly workDir: string;
  readonly name: string;
  readonly subvolume: string;
  readonly snapshotsDir: string;
  readonly prefix: string;
  /** zstd compression (`s3.compression`). */
  readonly compression?: boolean;
  /** age encryption to this recipient, restored with this identity file. */
  readonly encryption?: { readonly recipient: string; readonly identityFile: string };
}

/** Our config for one scenario: its own state, lock and prefix. */
export function ourConfigToml(config: OurConfig, gateway: Gateway, tuning: Tuning): string {
  const state = `${config.workDir}/state-${config.name}`;
  return [
    '[global]',
    `state_path = ${JSON.stringify(`${state}/state.json`)}`,
    `lock_path = ${JSON.stringify(`${state}/run.lock`)}`,
    `metrics_path = ${JSON.stringify(`${state}/metrics.json`)}`,
    '',
    '[snapshots]',
    `base_dir = ${JSON.stringify(config.snapshotsDir)}`,
    'retain = 1',
    '',
    '[subvolumes]',
    `paths = [${JSON.stringify(config.subvolume)}]`,
    '',
    '[s3]',
    `bucket = ${JSON.stringify(gateway.bucket)}`,
    `region = ${JSON.stringify(gateway.region)}`,
    `prefix = ${JSON.stringify(config.prefix)}`,
    `endpoint = ${JSON.stringify(gateway.endpoint)}`,
    'path_style = true',
    'checksum_mode = "when_required"',
    'storage_class_chunks = "STANDARD"',
    `part_size_bytes = ${tuning.partSizeBytes}`,
    `concurrency = ${tuning.concurrency}`,
    ...(tuning.chunkSizeBytes === undefined ? [] : [`chunk_size_bytes = ${tuning.chunkSizeBytes}`]),
    // The harness deletes each run's objects itself once it is measured.
    'prune_after_backup = false',
    ...(config.compression === true ? ['compression = "zstd"'] : []),
    '',
    ...(config.encryption === undefined
      ? []
      : [
          '[encryption]',
          `recipients = [${JSON.stringify(config.encryption.recipient)}]`,
          `identity_file = ${JSON.stringify(config.encryption.identityFile)}`,
          '',
        ]),
  ].join('\n');
}

/** Our credentials: the SDK's environment chain, and no awscli config file in the way. */
export function ourEnv(gateway: Gateway): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: gateway.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gateway.secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

export interface TimeFiles {
  /** The measured process: ours, or a peer's uploader/downloader. */
  readonly main: string;
  /** The other side of a pipeline. */
  readonly source?: string;
}

export function sendToNull(snapshot: string, files: TimeFiles): string {
  return `${timed(files.main, `btrfs send -q ${q(snapshot)}`)} >/dev/null`;
}

/** Run by its path, so the shebang's Node flags (the small young generation) apply. */
export function oursBackup(cli: string, configFile: string, files: TimeFiles, kind: 'full' | 'incremental'): string {
  return timed(files.main, `${q(cli)} backup ${kind === 'full' ? '--full' : '--once'} --json --config ${q(configFile)}`);
}

export function oursRestore(
  cli: string,
  configFile: string,
  subvolume: string,
  target: string,
  verify: 'none' | 'sample',
  files: TimeFiles,
): string {
  return timed(
    files.main,
    `${q(cli)} restore --json --subvolume ${q(subvolume)} --target ${q(target)} --verify ${verify} --config ${q(configFile)}`,
  );
}

function pipeline(left: string, right: string): string {
  return `set -o pipefail; ${left} | ${right}`;
}

function requireSource(files: TimeFiles): string {
  if (files.source === undefined) throw new Error('a pipeline needs a time file for each side');
  return files.source;
}

export function awsUpload(snapshot: string, gateway: Gateway, key: string, expectedSize: number, files: TimeFiles): string {
  return pipeline(
    timed(requireSource(files), `btrfs send -q ${q(snapshot)}`),
    timed(
      files.main,
      `${AWS} s3 cp - ${q(`s3://${gateway.bucket}/${key}`)} --endpoint-url ${q(gateway.endpoint)} --expected-size ${expectedSize} --sse AES256 --only-show-errors`,
    ),
  );
}

export function rcloneUpload(snapshot: string, gateway: Gateway, key: string, tuning: Tuning, files: TimeFiles): string {
  const mib = Math.round(tuning.partSizeBytes / 2 ** 20);
  return pipeline(
    timed(requireSource(files), `btrfs send -q ${q(snapshot)}`),
    timed(
      files.main,
      `rclone rcat ${q(`${RCLONE_REMOTE}:${gateway.bucket}/${key}`)} --s3-chunk-size ${mib}M --s3-upload-concurrency ${tuning.concurrency} --s3-server-side-encryption AES256`,
    ),
  );
}

export function awsRestore(gateway: Gateway, key: string, targetDir: string, files: TimeFiles): string {
  return pipeline(
    timed(files.main, `${AWS} s3 cp ${q(`s3://${gateway.bucket}/${key}`)} - --endpoint-url ${q(gateway.endpoint)} --only-show-errors`),
    timed(requireSource(files), `btrfs receive -q ${q(targetDir)}`),
  );
}

/** Prints one object to stdout (a manifest, a pointer). */
export function awsCat(gateway: Gateway, key: string): string {
  return `${AWS} s3 cp ${q(`s3://${gateway.bucket}/${key}`)} - --endpoint-url ${q(gateway.endpoint)} --only-show-errors`;
}

/** Deletes what one run stored (a key, or everything under a prefix ending in /). */
export function awsDelete(gateway: Gateway, keyOrPrefix: string): string {
  const recursive = keyOrPrefix.endsWith('/') ? ' --recursive' : '';
  return `${AWS} s3 rm ${q(`s3://${gateway.bucket}/${keyOrPrefix}`)}${recursive} --endpoint-url ${q(gateway.endpoint)} --only-show-errors`;
}
