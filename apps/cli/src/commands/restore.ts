import { Errors, Flags } from '@oclif/core';
import { VERIFY_MODES } from '@org/btrfs-s3-core';
import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';
import type { RestoreOptions, RestorePlan, RestoreResult } from '@org/btrfs-s3-restore';
import { join, resolve } from 'node:path';
import { BaseCommand } from '@org/btrfs-s3-command';
import { locationFlags, locationOf } from '../flags';
import { progressListener, progressLogStream } from '../deps';
import { withInterrupts } from '../interrupts';
import { requireRoot } from '../require-root';
import type { Writable } from 'node:stream';

export default class Restore extends BaseCommand {
  static override summary = 'Restore a subvolume from S3 into a new path on a Btrfs filesystem, verified.';
  static override description = `Follows current.json (or --manifest-key) back to the full backup, thaws archived chunks of the whole chain, streams verified bytes into \`btrfs receive\` oldest first, then checks the Received UUID and, when the source snapshot is on this host, compares the trees. Exit code 5: archived objects are still thawing; run the same command again later.`;
  static override examples = [
    '<%= config.bin %> restore --subvolume data --target /mnt/restore/data',
    '<%= config.bin %> restore -s data --target /mnt/restore/data --no-wait',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    ...locationFlags,
    subvolume: Flags.string({ char: 's', summary: 'The subvolume to restore (its name, as in the S3 keys).', required: true }),
    target: Flags.string({
      char: 't',
      summary: 'A new path on a Btrfs filesystem (or an empty directory); default restore.target_base_dir/<subvolume>.',
    }),
    'manifest-key': Flags.string({ summary: 'Restore this backup instead of the one current.json points to.', exclusive: ['at'] }),
    at: Flags.string({
      summary:
        'Restore as of this time: the newest backup at or before it (ISO 8601; no offset means local time; a date alone means the end of that day).',
      exclusive: ['manifest-key'],
    }),
    'identity-file': Flags.string({ summary: 'The age identity file that opens encrypted backups (default encryption.identity_file).' }),
    verify: Flags.option({ options: VERIFY_MODES, summary: 'Tree comparison against the source snapshot; default restore.verify_mode.' })(),
    wait: Flags.boolean({
      allowNo: true,
      summary: 'Wait for archived objects to thaw (default restore.wait_for_restore); --no-wait requests the thaw and exits 5.',
    }),
    /** The flag's first name, kept so scripts keep working. */
    'wait-restore': Flags.option({
      options: ['true', 'false'] as const,
      summary: 'Deprecated: --wait or --no-wait.',
      hidden: true,
      exclusive: ['wait'],
      deprecated: { to: 'wait', message: '--wait-restore is deprecated: use --wait or --no-wait' },
    })(),
    'restore-timeout': Flags.integer({
      min: 1,
      summary: 'Seconds to wait for the thaw before exiting 5 (default restore.restore_timeout_seconds).',
    }),
    'dry-run': Flags.boolean({
      summary:
        'Check everything (chain, Btrfs, free space, tools) and show the chain, its size and the thaw cost by tier; thaw and download nothing.',
    }),
    stdout: Flags.boolean({
      summary:
        "Write the chain's verified send streams, oldest first, to standard output instead of receiving them (for btrfs receive elsewhere, or a file).",
      exclusive: ['target', 'dry-run', 'json', 'verify', 'skip-space-check'],
    }),
    'skip-space-check': Flags.boolean({
      summary: "Restore even if the target has less free space than the chain's streams (compression or reflinks may make it fit).",
    }),
  };

  /** Log lines go above the progress bar while it is drawn. */
  protected override logStream(): Writable {
    return progressLogStream();
  }

  async run(): Promise<RestoreResult | RestorePlan | undefined> {
    const { planRestore, runRestore, runRestoreToStream } = await import('@org/btrfs-s3-restore');
    const { flags, metadata } = await this.parse(Restore);
    const { config, logger } = await this.remoteContext(flags, metadata, locationOf(flags));
    const source = {
      config,
      subvolume: flags.subvolume,
      ...(flags['manifest-key'] === undefined ? {} : { manifestKey: flags['manifest-key'] }),
      ...(flags.at === undefined ? {} : { at: parseAt(flags.at) }),
      ...(flags.wait === undefined ? {} : { wait: flags.wait }),
      ...(flags['wait-restore'] === undefined ? {} : { wait: flags['wait-restore'] === 'true' }),
      ...(flags['restore-timeout'] === undefined ? {} : { waitTimeoutSeconds: flags['restore-timeout'] }),
      ...(flags['identity-file'] === undefined ? {} : { identityFile: resolve(flags['identity-file']) }),
      logger,
    };
    if (flags.stdout) {
      // No root needed: nothing is received here. Logs and progress go to stderr.
      if (process.stdout.isTTY) this.error('--stdout writes a binary stream: redirect it to a file or pipe it', { exit: 2 });
      const work = { what: 'the stream', outcome: 'what was written so far is a partial stream; the bucket is unchanged' };
      const streamed = await withInterrupts(logger, work, (signal) =>
        runRestoreToStream({ ...source, output: process.stdout, signal, onProgress: progressListener(config, logger, { json: true }) }),
      );
      logger.info(
        `${streamed.subvolume}: wrote ${streamed.chain.length} verified send stream(s), ${formatBytes(streamed.bytes)}, oldest first`,
      );
      return undefined;
    }
    requireRoot('restore');
    const target =
      flags.target ?? (config.restore.target_base_dir === undefined ? undefined : join(config.restore.target_base_dir, flags.subvolume));
    if (target === undefined) this.error('--target is required when restore.target_base_dir is not set', { exit: 2 });
    const options: RestoreOptions = {
      ...source,
      target,
      ...(flags.verify === undefined ? {} : { verify: flags.verify }),
      skipSpaceCheck: flags['skip-space-check'],
    };
    if (flags['dry-run']) {
      const plan = await withInterrupts(logger, { what: 'the dry run', outcome: 'nothing was changed' }, (signal) =>
        planRestore({ ...options, signal }),
      );
      for (const line of describeRestorePlan(plan)) this.log(line);
      return plan;
    }
    const work = { what: 'the restore in progress', outcome: 'everything this restore received was removed; the bucket is unchanged' };
    const result = await withInterrupts(logger, work, (signal) =>
      runRestore({ ...options, signal, onProgress: progressListener(config, logger, { json: this.jsonEnabled() }) }),
    );
    const verified =
      'skipped' in result.verification
        ? `tree comparison skipped: ${result.verification.skipped}`
        : `${result.verification.compared} entries compared (${result.verification.mode}), no differences`;
    this.log(
      `${result.subvolume}: restored ${result.chain.length} backup(s), ${formatBytes(result.bytes)} in ${result.elapsedSeconds.toFixed(1)} s (${formatRate(result.bytes, result.elapsedSeconds)}), to ${result.snapshotPath}`,
    );
    this.log(`${result.subvolume}: Received UUID ${result.receivedUuid} matches the manifest; ${verified}`);
    return result;
  }
}

/**
 * `--at`: an ISO 8601 time. Without an offset it is local time, as `date` prints it; a
 * date alone means the end of that day, so "as of Tuesday" includes Tuesday's backup.
 */
export function parseAt(text: string): Date {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const at =
    dateOnly === null ? new Date(text) : new Date(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]), 23, 59, 59, 999);
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const wrapped = dateOnly !== null && at.getMonth() !== Number(dateOnly[2]) - 1; // 2026-13-01 or 2026-02-30 rolls over
  if (!iso.test(text) || Number.isNaN(at.getTime()) || wrapped) {
    throw new Errors.CLIError(`--at: "${text}" is not an ISO 8601 time such as 2026-12-01, 2026-12-01T18:00 or 2026-12-01T18:00:00Z`, {
      exit: 2,
    });
  }
  return at;
}

/** What a restore would do, for `--dry-run`: the chain, its size, the space, and the thaw's price by tier. */
function describeRestorePlan(plan: RestorePlan): string[] {
  const space = plan.spaceChecked
    ? `${formatBytes(plan.freeBytes)} free`
    : `${formatBytes(plan.freeBytes)} free (not checked: --skip-space-check)`;
  const thaw =
    plan.archivedObjects === 0
      ? ['nothing to thaw: no chunk is in an archive class']
      : [
          `${plan.archivedObjects} of ${plan.objects} chunk object(s), ${formatBytes(plan.archivedBytes)}, need a thaw first; restore.restore_tier is ${plan.tier}; estimated retrieval fees (docs/restore.md):`,
          ...plan.thaw.map((entry) => `  ${entry.storageClass} ${entry.tier}: about $${entry.usd.toFixed(2)}, ready ${entry.typically}`),
        ];
  return [
    `${plan.subvolume}: would restore a chain of ${plan.chain.length} backup(s), ${formatBytes(plan.bytes)}, into ${plan.target} (${space}; preflight passed: ${plan.tools.join(', ')} found, target on Btrfs and writable)`,
    ...plan.chain.map(
      (link) =>
        `  ${link.kind.padEnd(4)} ${link.createdAt}  ${formatBytes(link.bytes)} in ${link.chunks} chunk(s), ${link.storageClass}  ${link.manifestKey}`,
    ),
    ...thaw,
  ];
}
