import { withActivity } from '@org/btrfs-s3-core';
import type { Writable } from 'node:stream';
import { withProgress, writeOne } from './receive';
import type { RestoreStreamResult } from './result';
import { assertRestoreInput, chainFor, type RestoreSourceOptions, thawChain, withRestoreContext } from './run-restore';

export interface RestoreStreamOptions extends RestoreSourceOptions {
  /** Where the send streams go, oldest first (e.g. process.stdout); left open. */
  readonly output: Writable;
}

/**
 * The chain's verified send streams, oldest first, written to `output` instead of
 * received: for `btrfs receive` on another machine, or to keep as a file
 * (`btrfs receive -f FILE DIR` takes them all). Thaws like runRestore; needs no
 * Btrfs here, and receives nothing.
 */
export async function runRestoreToStream(options: RestoreStreamOptions): Promise<RestoreStreamResult> {
  assertRestoreInput(options);
  return withActivity(options.config.global.lock_path, 'restore', () => streamChain(options));
}

async function streamChain(options: RestoreStreamOptions): Promise<RestoreStreamResult> {
  return withRestoreContext(options, async (context) => {
    const chain = await chainFor(context, options);
    await thawChain(context, options, chain);
    const started = context.now();
    for (const { link, progress } of withProgress(context, chain)) {
      context.signal.throwIfAborted();
      await writeOne(context, link, progress, options.output);
    }
    return {
      subvolume: options.subvolume,
      chain: chain.map((link) => ({
        manifestKey: link.key,
        kind: link.manifest.kind,
        snapshot: link.manifest.snapshot.name,
        bytes: link.manifest.total_bytes,
      })),
      bytes: chain.reduce((sum, link) => sum + link.manifest.total_bytes, 0),
      elapsedSeconds: (context.now().getTime() - started.getTime()) / 1000,
    };
  });
}
