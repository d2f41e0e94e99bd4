import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { BtrfsError } from './errors';
import { exitError, type SpawnedProcess } from '@org/btrfs-s3-core';
import type { SendOptions } from './btrfs';
import { takeOverPipe } from './pipe-reads';

/**
 * The stdout of a running `btrfs send` as a Readable that ends only if the program
 * exited 0. A failure, even after some output, becomes an 'error' instead of
 * 'end', so a consumer never mistakes a cut-off stream for a whole one.
 *
 * Nothing is buffered beyond the streams' highWaterMarks: stdout is piped, so
 * a consumer that stops reading fills the OS pipe and `btrfs send` blocks.
 * Destroying the Readable (a consumer aborting) kills the program.
 *
 * With `buffers` 'reused' it reads a real pipe into a few reused buffers (see
 * `takeOverPipe`): a Readable in object mode whose Buffers the consumer hands back with
 * `recycle`.
 */
export function sendStream(
  child: SpawnedProcess,
  command: string,
  args: readonly string[],
  buffers: NonNullable<SendOptions['buffers']>,
): Readable {
  // send reads nothing; an open stdin would only hold a pipe.
  child.stdin.end();
  let exited = false;
  const exit = child.completion.then((result) => {
    exited = true;
    return result;
  });
  // stdout closed; whether that was the whole stream depends on the exit status.
  const atEnd = () =>
    exit.then((result) => {
      const failure = exitError(command, args, result);
      return failure === undefined ? undefined : new BtrfsError('send', failure);
    });
  const kill = () => {
    if (!exited) child.kill();
  };
  const reads = buffers === 'reused' ? takeOverPipe(child.stdout, { atEnd, onDestroy: kill }) : undefined;
  if (reads !== undefined) return reads;
  const output = new PassThrough({
    flush(callback) {
      void atEnd().then((failure) => callback(failure ?? null));
    },
    destroy(error, callback) {
      kill();
      callback(error);
    },
  });
  // pipeline destroys stdout when the consumer destroys `output`, and `output` when
  // stdout fails; `output` then already carries the error, so there is nothing to add here.
  pipeline(child.stdout, output, () => undefined);
  return output;
}
