import type { BackupDeps } from '@org/btrfs-s3-backup';
import type { Logger, ProgressListener, RemoteConfig } from '@org/btrfs-s3-core';
import { failpointFromEnv } from './failpoints';
import { progressRenderer } from './progress';

/**
 * The one place the CLI wires the libraries to this process. The libraries build
 * the real Btrfs runner and S3 client from the config themselves; the CLI adds what
 * only it knows: its version, the fault suite's failpoint hook, and how to show
 * progress (a bar on a terminal, log lines under systemd, nothing with --json).
 */
export function backupDeps(toolVersion: string, env: NodeJS.ProcessEnv = process.env): BackupDeps {
  return { toolVersion, failpoint: failpointFromEnv(env) };
}

export function progressListener(config: RemoteConfig, logger: Logger, options: { json: boolean }): ProgressListener {
  return progressRenderer({
    tty: process.stderr.isTTY === true && !options.json,
    logger,
    intervalSeconds: config.global.progress_interval_seconds,
  });
}
