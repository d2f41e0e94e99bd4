import type { ListResult } from '@org/btrfs-s3-bucket';
import { BaseCommand } from '@org/btrfs-s3-command';
import { locationFlags, locationOf, selectionFlags } from '../flags';
import { withInterrupts } from '../interrupts';

export default class List extends BaseCommand {
  static override summary = 'Show the backups in the bucket per subvolume: generations, what current.json reaches, failed runs.';
  static override description = `Per subvolume (configured ones, and any other found under <prefix>/subvol/, marked "not configured"): the generations (a full and the incrementals chained to it), each backup's kind, time, size, chunk count, storage class and manifest key; what current.json points to (>) and the chain it reaches (*); and directories with chunks but no manifest (a failed run), with their size and age. Reads only; see docs/operations.md.`;
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --subvolume data --json'];
  static override enableJsonFlag = true;
  static override flags = { subvolume: selectionFlags.subvolume, ...locationFlags };

  async run(): Promise<ListResult> {
    const [{ runList }, { renderList }] = await Promise.all([import('@org/btrfs-s3-bucket'), import('../render-remote.js')]);
    const { flags, metadata } = await this.parse(List);
    const { config, logger } = await this.remoteContext(flags, metadata, locationOf(flags));
    const result = await withInterrupts(logger, { what: 'the listing', outcome: 'nothing was changed' }, (signal) =>
      runList({ config, logger, signal, subvolumes: flags.subvolume ?? [] }),
    );
    for (const line of renderList(result)) this.log(line);
    return result;
  }
}
