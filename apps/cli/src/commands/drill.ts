import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { VERIFY_MODES } from '@org/btrfs-s3-core';
import { formatBytes } from '@org/btrfs-s3-metrics';
import type { DrillResult } from '@org/btrfs-s3-restore';
import { BaseCommand } from '@org/btrfs-s3-command';
import { progressListener, progressLogStream } from '../deps';
import { locationFlags, locationOf, selectionFlags } from '../flags';
import { withInterrupts } from '../interrupts';
import { requireRoot } from '../require-root';
import type { Writable } from 'node:stream';

/** The restore package, loaded by the first run (--help and --version start without it); no drill error exists before. */
let restore: typeof import('@org/btrfs-s3-restore') | undefined;

export default class Drill extends BaseCommand {
  static override summary = 'Prove the backups restore: restore each current backup into a scratch directory, verify it, delete it.';
  static override description = `Per subvolume (the configured ones, or --subvolume): resolves the chain from current.json, restores it into a new directory under --scratch (a directory on Btrfs; default drill.scratch_dir) exactly as restore does (every part re-hashed, the Received UUID checked, the tree compared with the source snapshot when it is on this host), then deletes what it received, pass or fail. Chains in GLACIER or DEEP_ARCHIVE are drilled only with --thaw (the whole chain is thawed: retrieval fees), or with --sample N, which thaws N chunks per backup (a choice that changes every month) and re-hashes them against the manifest without a receive. Each outcome is recorded for monitoring (btrfs_to_s3_last_drill_success_timestamp_seconds{subvolume,mode}; docs/metrics.md); a failed drill keeps the last success time. Exit 0 when every drill passed, 1 naming the damaged object otherwise, 2 before anything is spent on bad input or a failed preflight.`;
  static override examples = [
    '<%= config.bin %> drill --scratch /srv/.drill',
    '<%= config.bin %> drill -s data --sample 1',
    '<%= config.bin %> drill -s data --thaw --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    subvolume: selectionFlags.subvolume,
    ...locationFlags,
    scratch: Flags.string({
      summary:
        'An existing directory on Btrfs to restore into and delete again (default drill.scratch_dir); needs room for the largest chain.',
    }),
    thaw: Flags.boolean({
      summary: 'Drill archived chains fully: thaw the whole chain first (costs retrieval fees; restore --dry-run shows them).',
      exclusive: ['sample'],
    }),
    sample: Flags.integer({
      min: 1,
      summary:
        'For archived chains: thaw and re-hash this many chunks per backup instead of restoring (readable chains are still drilled fully).',
      exclusive: ['thaw'],
    }),
    'identity-file': Flags.string({ summary: 'The age identity file that opens encrypted backups (default encryption.identity_file).' }),
    verify: Flags.option({ options: VERIFY_MODES, summary: 'Tree comparison against the source snapshot; default restore.verify_mode.' })(),
    'skip-space-check': Flags.boolean({
      summary: "Drill even if the scratch filesystem has less free space than a chain's streams.",
    }),
  };

  /** Log lines go above the progress bar while it is drawn. */
  protected override logStream(): Writable {
    return progressLogStream();
  }

  async run(): Promise<DrillResult> {
    restore ??= await import('@org/btrfs-s3-restore');
    const { DrillFailedError, runDrill } = restore;
    const { flags, metadata } = await this.parse(Drill);
    const { config, logger } = await this.remoteContext(flags, metadata, locationOf(flags));
    requireRoot('drill');
    const work = { what: 'the drill', outcome: 'what it had received was deleted; the bucket is unchanged' };
    try {
      const result = await withInterrupts(logger, work, (signal) =>
        runDrill({
          config,
          logger,
          signal,
          subvolumes: flags.subvolume ?? [],
          ...(flags.scratch === undefined ? {} : { scratch: flags.scratch }),
          thaw: flags.thaw,
          ...(flags.sample === undefined ? {} : { sample: flags.sample }),
          ...(flags.verify === undefined ? {} : { verify: flags.verify }),
          ...(flags['identity-file'] === undefined ? {} : { identityFile: resolve(flags['identity-file']) }),
          skipSpaceCheck: flags['skip-space-check'],
          onProgress: progressListener(config, logger, { json: this.jsonEnabled() }),
        }),
      );
      for (const line of renderDrill(result)) this.log(line);
      return result;
    } catch (error) {
      if (error instanceof DrillFailedError && !this.jsonEnabled()) for (const line of renderDrill(error.result)) this.log(line);
      throw error;
    }
  }

  /** A failed drill's JSON keeps the result: which subvolume and which object failed is the point. */
  protected override toErrorJson(error: unknown): unknown {
    const base = super.toErrorJson(error);
    return restore !== undefined && error instanceof restore.DrillFailedError && typeof base === 'object' && base !== null
      ? { ...base, result: error.result }
      : base;
  }
}

/** One line per subvolume: what was proven, or what failed. */
export function renderDrill(result: DrillResult): string[] {
  return result.subvolumes.map((entry) => {
    const what =
      entry.mode === 'full'
        ? `restored ${entry.backups} backup(s), ${formatBytes(entry.bytes)}, and deleted them`
        : `re-hashed ${entry.chunksRead} sampled chunk(s), ${formatBytes(entry.bytes)}, of ${entry.backups} backup(s)`;
    const outcome = entry.ok
      ? `passed: ${what}${entry.verification === null ? '' : `; ${entry.verification}`}`
      : `FAILED: ${entry.problem ?? ''}`;
    return `${entry.subvolume}: ${entry.mode} drill ${outcome} (${entry.elapsedSeconds.toFixed(1)} s)`;
  });
}
