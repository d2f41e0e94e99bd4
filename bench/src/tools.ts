// Each tool's command line, as one bash command that /usr/bin/time measures. Pipelines
// measure both sides (`time -v -o A send | time -v -o B uploader`) under `pipefail`, and
// the harness times the whole command. Peers run with their own defaults (as a user pipes
// them) or matched to our part size and concurrency, and send SSE-S3 as ours does (AWS
// encrypts at rest by default, so a real store does that work for every tool; this gateway
// only does it when asked).
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
}

/** Our tuned settings: a part size, a concurrency and the SDK's checksum mode. */
export interface OurTuning extends Tuning {
  readonly checksumMode: string;
}

/** awscli reads its transfer settings from the config file only; without tuning, its defaults (8 MiB parts, 10 requests). */
export function awsConfigFile(gateway: Gateway, tuning?: Tuning): string {
  const lines = ['[default]', `region = ${gateway.region}`];
  if (tuning !== undefined) {
    const mb = Math.round(tuning.partSizeBytes / 2 ** 20);
    lines.push('s3 =', `  multipart_chunksize = ${mb}MB`, `  max_concurrent_requests = ${tuning.concurrency}`);
  }
  return [...lines, ''].join('\n');
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

/**
 * Our config for one scenario: its own state, lock and prefix. Without tuning it is the
 * README's config plus only what this environment needs: the endpoint, path-style, and the
 * STANDARD class for chunks (this gateway cannot thaw archive classes, so nothing stored in
 * one could be restored).
 */
export function ourConfigToml(config: OurConfig, gateway: Gateway, tuning?: OurTuning): string {
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
    'storage_class_chunks = "STANDARD"',
    ...(tuning === undefined
      ? []
      : [
          `checksum_mode = ${JSON.stringify(tuning.checksumMode)}`,
          `part_size_bytes = ${tuning.partSizeBytes}`,
          `concurrency = ${tuning.concurrency}`,
        ]),
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

/** `btrfs send` of a snapshot, or of its difference from a parent (an incremental). */
export interface SendSource {
  readonly snapshot: string;
  readonly parent?: string;
}

function send({ snapshot, parent }: SendSource): string {
  return `btrfs send -q${parent === undefined ? '' : ` -p ${q(parent)}`} ${q(snapshot)}`;
}

export function sendToNull(snapshot: string, files: TimeFiles): string {
  return `${timed(files.main, send({ snapshot }))} >/dev/null`;
}

/** Run by its path, so the shebang's Node flags (the small young generation) apply. */
export function oursBackup(
  cli: string,
  configFile: string,
  files: TimeFiles,
  kind: 'full' | 'incremental',
  options: { readonly maxUploadRate?: string } = {},
): string {
  const cap = options.maxUploadRate === undefined ? '' : ` --max-upload-rate ${q(options.maxUploadRate)}`;
  return timed(files.main, `${q(cli)} backup ${kind === 'full' ? '--full' : '--once'}${cap} --json --config ${q(configFile)}`);
}

/** `verify: 'default'` passes no --verify: the config's restore.verify_mode decides, as for a user. */
export function oursRestore(
  cli: string,
  configFile: string,
  subvolume: string,
  target: string,
  verify: 'none' | 'default',
  files: TimeFiles,
): string {
  const flag = verify === 'none' ? ' --verify none' : '';
  return timed(files.main, `${q(cli)} restore --json --subvolume ${q(subvolume)} --target ${q(target)}${flag} --config ${q(configFile)}`);
}

function pipeline(left: string, right: string): string {
  return `set -o pipefail; ${left} | ${right}`;
}

function requireSource(files: TimeFiles): string {
  if (files.source === undefined) throw new Error('a pipeline needs a time file for each side');
  return files.source;
}

export function awsUpload(source: SendSource, gateway: Gateway, key: string, expectedSize: number, files: TimeFiles): string {
  return pipeline(
    timed(requireSource(files), send(source)),
    timed(
      files.main,
      `${AWS} s3 cp - ${q(`s3://${gateway.bucket}/${key}`)} --endpoint-url ${q(gateway.endpoint)} --expected-size ${expectedSize} --sse AES256 --only-show-errors`,
    ),
  );
}

export interface RcloneOptions {
  /** Our part size and concurrency; absent, rclone's defaults (5 MiB chunks, 4 streams). */
  readonly tuning?: Tuning;
  /** `--bwlimit`, bytes per second. */
  readonly bwlimitBytesPerSecond?: number;
}

export function rcloneUpload(snapshot: string, gateway: Gateway, key: string, options: RcloneOptions, files: TimeFiles): string {
  const { tuning, bwlimitBytesPerSecond } = options;
  const knobs =
    tuning === undefined
      ? ''
      : ` --s3-chunk-size ${Math.round(tuning.partSizeBytes / 2 ** 20)}M --s3-upload-concurrency ${tuning.concurrency}`;
  const limit = bwlimitBytesPerSecond === undefined ? '' : ` --bwlimit ${Math.round(bwlimitBytesPerSecond)}B`;
  return pipeline(
    timed(requireSource(files), send({ snapshot })),
    timed(files.main, `rclone rcat ${q(`${RCLONE_REMOTE}:${gateway.bucket}/${key}`)}${knobs}${limit} --s3-server-side-encryption AES256`),
  );
}

/** A restic repository under `prefix` in the gateway's bucket; its password and cache from the environment. */
export function resticRepository(gateway: Gateway, prefix: string): string {
  return `s3:${gateway.endpoint}/${gateway.bucket}/${prefix}`;
}

export function resticEnv(gateway: Gateway, cacheDir: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: gateway.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gateway.secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    RESTIC_PASSWORD: 'bench',
    RESTIC_CACHE_DIR: cacheDir,
  };
}

export function resticInit(repository: string): string {
  return `restic -r ${q(repository)} init --quiet`;
}

/** `btrfs send | restic backup --stdin`, restic's defaults but for `--limit-upload` (whole KiB/s). */
export function resticUpload(snapshot: string, repository: string, limitKiBPerSecond: number, files: TimeFiles): string {
  return pipeline(
    timed(requireSource(files), send({ snapshot })),
    timed(
      files.main,
      `restic -r ${q(repository)} backup --stdin --stdin-filename data.btrfs --host bench --limit-upload ${limitKiBPerSecond} --quiet`,
    ),
  );
}

/** A command run with the network of another namespace (nsenter --net): files and processes as here. */
export function inNamespace(netns: string, command: string): string {
  return `nsenter --net=${q(netns)} -- bash -c ${q(command)}`;
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
