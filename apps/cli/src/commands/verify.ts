import { Flags } from '@oclif/core';
import type { VerifyReads, VerifyReport } from '@org/btrfs-s3-bucket';
import { BaseCommand } from '@org/btrfs-s3-command';
import { locationFlags, locationOf, selectionFlags } from '../flags';
import { withInterrupts } from '../interrupts';

/** The bucket package, loaded by the first run (--help and --version start without it); no verify error exists before. */
let bucket: typeof import('@org/btrfs-s3-bucket') | undefined;

export default class Verify extends BaseCommand {
  static override summary =
    'Check the backups in the bucket without a restore: every manifest of each current chain, every chunk, optionally every byte.';
  static override description = `Per subvolume: resolves the chain from current.json back to its full (every manifest read and checked), then checks that every chunk exists with its recorded size (HeadObject). --read-data downloads every chunk and re-hashes each part, each chunk and the whole stream against the manifest; --sample N does so for N chunks per backup, chosen by the manifest key (a rerun checks the same ones). Chunks in GLACIER or DEEP_ARCHIVE that are not thawed are not readable: they are reported and skipped, not failed. Exit 0 when everything checked is intact, 1 with one line per problem otherwise. See docs/operations.md.`;
  static override examples = [
    '<%= config.bin %> verify',
    '<%= config.bin %> verify --subvolume data --read-data',
    '<%= config.bin %> verify --sample 2 --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    subvolume: selectionFlags.subvolume,
    ...locationFlags,
    'read-data': Flags.boolean({
      summary: 'Download every chunk and re-hash it (costs GET requests and transfer).',
      exclusive: ['sample'],
    }),
    sample: Flags.integer({
      min: 1,
      summary: 'Download and re-hash this many chunks per backup, the same ones on every run.',
      exclusive: ['read-data'],
    }),
  };

  async run(): Promise<VerifyReport> {
    bucket ??= await import('@org/btrfs-s3-bucket');
    const { DamagedBackupError, runVerify } = bucket;
    const { renderVerify } = await import('../render-remote.js');
    const { flags, metadata } = await this.parse(Verify);
    const { config, logger } = await this.remoteContext(flags, metadata, locationOf(flags));
    const mode: VerifyReads = flags['read-data']
      ? { reads: 'all' }
      : flags.sample === undefined
        ? { reads: 'none' }
        : { reads: 'sample', count: flags.sample };
    try {
      const work = { what: 'the verification', outcome: 'nothing was changed' };
      const report = await withInterrupts(logger, work, (signal) =>
        runVerify({ config, logger, signal, subvolumes: flags.subvolume ?? [], reads: mode }),
      );
      for (const line of renderVerify(report)) this.log(line);
      return report;
    } catch (error) {
      if (error instanceof DamagedBackupError && !this.jsonEnabled()) for (const line of renderVerify(error.report)) this.log(line);
      throw error;
    }
  }

  /** A failed verify's JSON keeps the report: which keys are damaged is the point. */
  protected override toErrorJson(error: unknown): unknown {
    const base = super.toErrorJson(error);
    return bucket !== undefined && error instanceof bucket.DamagedBackupError && typeof base === 'object' && base !== null
      ? { ...base, report: error.report }
      : base;
  }
}
