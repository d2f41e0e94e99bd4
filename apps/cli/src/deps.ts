import type { BackupDeps } from '@org/btrfs-s3-backup';
import type { Logger, ProgressListener, RemoteConfig } from '@org/btrfs-s3-core';
import type { Writable } from 'node:stream';
import { failpointFromEnv } from './failpoints';
import { stderrLog } from './progress/log-output';
import { progressRenderer } from './progress/render';

/**
 * The one place the CLI wires the libraries to this process. The libraries build
 * the real Btrfs runner and S3 client from the config themselves; the CLI adds what
 * only it knows: its version, the fault suite's failpoint hook, and how to show
 * progress (a bar on a terminal, log lines under systemd and with --json).
 */
export function backupDeps(toolVersion: string, env: NodeJS.ProcessEnv = process.env): BackupDeps {
  return { toolVersion, failpoint: failpointFromEnv(env) };
}

/**
 * Progress on stderr: bars on a terminal, otherwise log lines. While bars are drawn,
 * the logger's lines go above them only if the command logs to progressLogStream().
 */
export function progressListener(config: RemoteConfig, logger: Logger, options: { json: boolean }): ProgressListener {
  if (process.stderr.isTTY === true && !options.json)
    return progressRenderer({ mode: 'bar', stream: process.stderr, logOutput: stderrLog });
  return progressRenderer({ mode: 'log', logger, intervalSeconds: config.global.progress_interval_seconds });
}

/** The log stream of a command that shows progress: stderr, or above the bars while they are drawn. */
export function progressLogStream(): Writable {
  return stderrLog;
}
