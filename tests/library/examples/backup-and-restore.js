// @ts-check
// Backs up one subvolume now, then restores it, verified, with no CLI involved.
// Usage: node backup-and-restore.js CONFIG SUBVOLUME TARGET [--verbose]
// S3 credentials come from the environment (AWS_ACCESS_KEY_ID, ...) as for the SDK.
const { parseArgs } = require('node:util');
const { BtrfsToS3Error, createLogger, loadConfig } = require('@org/btrfs-s3-core');
const { runBackup } = require('@org/btrfs-s3-backup');
const { runRestore } = require('@org/btrfs-s3-restore');

/**
 * @param {string} configPath a TOML config file
 * @param {string} subvolume the subvolume's name, as in the S3 keys
 * @param {string} target where to restore: a new path on Btrfs, never overwritten
 * @param {import('@org/btrfs-s3-core').Logger} [logger] the libraries log nothing without one
 */
async function backupAndRestore(configPath, subvolume, target, logger) {
  // BTRFS_TO_S3__SECTION__KEY variables override the file; a ConfigError lists every problem.
  const config = await loadConfig(configPath, process.env);

  // once: ignore the schedule. Throws BackupFailedError if the subvolume fails.
  const backup = await runBackup({ config, once: true, subvolumes: [subvolume], logger });
  for (const outcome of backup.outcomes) {
    if (outcome.result === 'published') {
      const { kind, bytes, chunks } = outcome.metrics;
      console.log(`backed up ${outcome.subvolume}: ${outcome.manifestKey} (${kind}, ${bytes} bytes in ${chunks} chunk(s))`);
    }
  }

  // Every chunk is checked against its SHA-256 before `btrfs receive` sees it.
  const restored = await runRestore({ config, subvolume, target, logger });
  console.log(`restored ${restored.snapshotPath}: ${restored.bytes} bytes, Received UUID ${restored.receivedUuid}`);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { verbose: { type: 'boolean' } } });
const [configPath, subvolume, target] = positionals;
if (configPath === undefined || subvolume === undefined || target === undefined) {
  console.error('usage: backup-and-restore.js CONFIG SUBVOLUME TARGET [--verbose]');
  process.exitCode = 2;
} else {
  const logger = values.verbose ? createLogger({ level: 'info', format: 'human' }) : undefined; // to stderr
  backupAndRestore(configPath, subvolume, target, logger).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    // Typed errors carry the documented exit code (docs/exit-codes.md); anything else is a bug.
    process.exitCode = error instanceof BtrfsToS3Error ? error.exitCode : 1;
  });
}
