import { crypto } from '../lazy-crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `content` atomically: a temp file in the same directory,
 * fsync, rename over the old file, fsync of the directory. A crash leaves the old
 * or the new content, never a torn file.
 */
export async function writeFileAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${crypto().randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync(); // the rename itself is durable only once the directory is
    } finally {
      await dirHandle.close();
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined); // best effort: the temp file may never have been created
    throw error;
  }
}
