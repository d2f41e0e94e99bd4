import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { ProcessRunner, SpawnedProcess } from '@org/btrfs-s3-core';
import { spawnProcessRunner } from '../../src';

/** Every file under `root` (relative path → sha256), and every directory (→ "dir"). */
export async function treeHashes(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        result[relative(root, path)] = 'dir';
        await walk(path);
      } else {
        result[relative(root, path)] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
      }
    }
  }
  await walk(root);
  return result;
}

/** A file of `size` random bytes, written in 1 MiB pieces. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const pieces: Buffer[] = [];
  for (let left = size; left > 0; left -= 1024 * 1024) pieces.push(randomBytes(Math.min(left, 1024 * 1024)));
  await writeFile(path, Buffer.concat(pieces));
}

/** The real runner, remembering each spawned process so a test can look at the real program. */
export function recordingRunner(): ProcessRunner & { spawned: SpawnedProcess[] } {
  const spawned: SpawnedProcess[] = [];
  return {
    spawned,
    run: (command, args) => spawnProcessRunner.run(command, args),
    spawn(command, args, options) {
      const child = spawnProcessRunner.spawn(command, args, options);
      spawned.push(child);
      return child;
    },
  };
}

/** A Writable that keeps everything, for pipeline. */
export function collector(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

/** Polls a condition the kernel exposes no event for, failing with `what` after `deadlineMs`. */
export async function waitUntil(what: string, condition: () => Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting until ${what}`);
    await delay(10);
  }
}

/**
 * Where the last command of a send stream starts (its end command in a whole stream).
 * Format: "btrfs-stream\0", u32 version, then commands of u32 payload length,
 * u16 type, u32 crc32c and the payload, all little-endian.
 */
export function lastCommandOffset(stream: Buffer): number {
  let offset = 17;
  let last = offset;
  while (offset < stream.length) {
    last = offset;
    offset += 10 + stream.readUInt32LE(offset);
  }
  if (offset !== stream.length) throw new Error(`send stream of ${stream.length} bytes does not end on a command boundary`);
  return last;
}
