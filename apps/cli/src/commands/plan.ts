import { Btrfs, spawnProcessRunner } from '@org/btrfs';
import { planBackups, readState, selectSubvolumes, type SubvolumePlan } from '@org/btrfs-s3-core';
import { createS3Client, S3ObjectStore } from '@org/btrfs-s3-store';
import { BaseCommand } from '../base-command';
import { describePlan } from '../describe';
import { selectionFlags } from '../flags';
import { observePlanWorld } from '../jobs/plan-input';

export interface PlanResult {
  readonly now: string;
  readonly subvolumes: readonly SubvolumePlan[];
}

export default class Plan extends BaseCommand {
  static override summary = 'Show what a backup run would do for each subvolume, and why. Changes nothing.';
  static override description = 'Reads the state file, lists local snapshots and checks that each parent manifest is still in the bucket.';
  static override examples = ['<%= config.bin %> plan', '<%= config.bin %> plan --once --subvolume data --json'];
  static override enableJsonFlag = true;
  static override flags = selectionFlags;

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(Plan);
    const { config } = await this.context(flags);
    selectSubvolumes(config, flags.subvolume ?? []); // an unknown --subvolume fails before any read or request
    const state = await readState(config.global.state_path);
    const client = createS3Client(config.s3);
    try {
      const world = await observePlanWorld(config, state, { btrfs: new Btrfs(spawnProcessRunner), manifests: new S3ObjectStore(client, config.s3) });
      const now = new Date();
      const subvolumes = planBackups({ config, state, now, ...world, options: { once: flags.once, full: flags.full, subvolumes: flags.subvolume ?? [] } });
      for (const plan of subvolumes) this.log(describePlan(plan));
      return { now: now.toISOString(), subvolumes };
    } finally {
      client.destroy();
    }
  }
}
