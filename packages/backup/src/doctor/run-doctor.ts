import type { S3Client } from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { type Config, type Logger, silentLogger, type Writer, writerIdentity } from '@org/btrfs-s3-core';
import { withS3Client } from '@org/btrfs-s3-store';
import { localChecks } from './local-checks';
import { type DoctorCheck, DoctorFailedError, type DoctorReport } from './report';
import { storeChecks } from './store-checks';

/** What runDoctor reaches the host and S3 through; each defaults to the real one (tests inject fakes). */
export interface DoctorDeps {
  /** Default: btrfs-progs through spawnProcessRunner. */
  readonly btrfs?: Btrfs;
  /** Made from `config.s3` when absent, and destroyed at the end; one given here is left open. */
  readonly client?: S3Client;
  readonly now?: () => Date;
  /** Names the probe objects; default from /etc/machine-id (writerIdentity). */
  readonly writer?: Writer;
  /** Default: this process's uid. */
  readonly userId?: number;
}

export interface DoctorOptions {
  readonly config: Config;
  /** Each check is logged as it completes; silent when absent. */
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Skip the S3 checks (no request at all). */
  readonly noS3?: boolean;
  readonly deps?: DoctorDeps;
}

/**
 * Checks what a first multi-day full would otherwise discover late: root, btrfs-progs,
 * the subvolumes, the snapshot directory and local paths; then credentials, bucket
 * access and the clock, a manifest-class object and a chunk written exactly as a backup
 * writes them (SSE, storage class, checksum mode) and deleted, and the bucket's
 * versioning and Object Lock. Takes no lock and touches nothing under `subvol/`.
 * Resolves with the report when no check failed; throws DoctorFailedError (exit 1),
 * carrying the report, when one did.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { config, deps = {} } = options;
  const logger = options.logger ?? silentLogger();
  const signal = options.signal ?? new AbortController().signal;
  const checks: DoctorCheck[] = [];
  const record = (found: readonly DoctorCheck[]) => {
    for (const check of found) {
      checks.push(check);
      const line = `${check.check}: ${check.detail}`;
      if (check.status === 'fail') logger.error(line);
      else if (check.status === 'ok') logger.info(line);
      else logger.warn(line);
    }
  };
  const btrfs = deps.btrfs ?? new Btrfs(spawnProcessRunner);
  record(await localChecks(config, btrfs, deps.userId ?? process.getuid?.()));
  if (options.noS3 !== true) {
    const writer = deps.writer ?? (await writerIdentity());
    const now = deps.now ?? (() => new Date());
    record(await withS3Client(config.s3, deps.client, (client) => storeChecks({ config, client, signal, writer, now })));
  }
  const report = { ok: checks.every((check) => check.status !== 'fail'), checks };
  if (!report.ok) throw new DoctorFailedError(report);
  return report;
}
