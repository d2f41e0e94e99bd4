import { Flags } from '@oclif/core';
import type { PruneResult } from '@org/btrfs-s3-bucket';
import { BaseCommand } from '@org/btrfs-s3-command';
import { selectionFlags } from '../flags';
import { withInterrupts } from '../interrupts';

export default class Prune extends BaseCommand {
  static override summary =
    "Delete old backup generations and failed runs' leftovers from the bucket; never anything current.json reaches.";
  static override description = `Per configured subvolume: keeps the newest s3.retain_generations generations (a full and every backup chained to it) and every generation current.json reaches; deletes older generations whole, and directories with chunks but no manifest (failed runs) once their newest object is older than s3.prune_grace_hours. Warns before deleting objects inside their storage class's minimum storage duration (charged either way). Takes the backup lock; --dry-run says what would go and why and deletes nothing. Also runs after each successful backup when s3.prune_after_backup is true. See docs/operations.md.`;
  static override examples = [
    '<%= config.bin %> prune --dry-run',
    '<%= config.bin %> prune --subvolume data',
    '<%= config.bin %> prune --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    subvolume: selectionFlags.subvolume,
    'dry-run': Flags.boolean({ summary: 'List what would be deleted, and why; delete nothing.' }),
  };

  async run(): Promise<PruneResult> {
    const [{ PruneFailedError, runPrune }, { renderPrune }] = await Promise.all([
      import('@org/btrfs-s3-bucket'),
      import('../render-remote.js'),
    ]);
    const { flags } = await this.parse(Prune);
    const { config, logger } = await this.context(flags);
    const work = { what: 'the prune', outcome: 'objects deleted so far stay deleted; run prune again to finish' };
    try {
      const result = await withInterrupts(logger, work, (signal) =>
        runPrune({ config, logger, signal, subvolumes: flags.subvolume ?? [], dryRun: flags['dry-run'] }),
      );
      for (const line of renderPrune(result)) this.log(line);
      return result;
    } catch (error) {
      if (error instanceof PruneFailedError && !this.jsonEnabled()) for (const line of renderPrune(error.result)) this.log(line);
      throw error;
    }
  }
}
