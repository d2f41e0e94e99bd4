import type { PlanResult } from '@org/btrfs-s3-backup';
import { BaseCommand } from '@org/btrfs-s3-command';
import { describePlan } from '../describe';
import { selectionFlags } from '../flags';

export default class Plan extends BaseCommand {
  static override summary = 'Show what a backup run would do for each subvolume, and why. Changes nothing.';
  static override description = 'Reads the state file, lists local snapshots and checks that each parent manifest is still in the bucket.';
  static override examples = ['<%= config.bin %> plan', '<%= config.bin %> plan --once --subvolume data --json'];
  static override enableJsonFlag = true;
  static override flags = selectionFlags;

  async run(): Promise<PlanResult> {
    const { planBackup } = await import('@org/btrfs-s3-backup');
    const { flags } = await this.parse(Plan);
    const { config } = await this.context(flags);
    const result = await planBackup({ config, once: flags.once, full: flags.full, subvolumes: flags.subvolume ?? [] });
    for (const plan of result.subvolumes) this.log(describePlan(plan));
    return result;
  }
}
