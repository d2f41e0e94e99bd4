import { execFile } from 'node:child_process';
import { chmod, link, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { compareTrees } from './verify';
import { parseGetfattr } from './xattrs';

const exec = promisify(execFile);
const runner = spawnProcessRunner;

/** A small tree with every kind of entry the comparison looks at. */
async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'dir/sub'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await writeFile(join(root, 'dir/a.txt'), 'alpha');
  await writeFile(join(root, 'dir/sub/b.bin'), Buffer.alloc(4096, 1));
  await writeFile(join(root, 'empty.txt'), '');
  await writeFile(join(root, 'ünïcödé name.txt'), 'x');
  await symlink('dir/a.txt', join(root, 'link'));
  await link(join(root, 'dir/a.txt'), join(root, 'hard'));
  await exec('setfattr', ['-n', 'user.note', '-v', 'kept', join(root, 'dir/a.txt')]);
}

/** Every tree twins() made, removed after the file's tests. */
const bases: string[] = [];
afterAll(() => Promise.all(bases.map((base) => rm(base, { recursive: true, force: true }))));

async function twins(): Promise<{ source: string; restored: string }> {
  const base = await mkdtemp(join(tmpdir(), 'verify-'));
  bases.push(base);
  const source = join(base, 'source');
  const restored = join(base, 'restored');
  await mkdir(source);
  await makeTree(source);
  await exec('cp', ['-a', source, restored]);
  return { source, restored };
}

const full = { mode: 'full' as const, sampleMaxFiles: 1000, runner };

describe('compareTrees', () => {
  it('finds no difference between a tree and an exact copy', async () => {
    const { source, restored } = await twins();
    const result = await compareTrees(source, restored, full);
    expect(result.differences).toEqual([]);
    expect(result.compared).toBe(9);
  });

  it('reports each kind of difference by path', async () => {
    const { source, restored } = await twins();
    await chmod(join(restored, 'dir/sub/b.bin'), 0o600);
    await writeFile(join(restored, 'empty.txt'), 'now not empty');
    await unlink(join(restored, 'link'));
    await symlink('elsewhere', join(restored, 'link'));
    await exec('setfattr', ['-n', 'user.note', '-v', 'changed', join(restored, 'dir/a.txt')]);
    await unlink(join(restored, 'hard'));
    await writeFile(join(restored, 'hard'), 'alpha');
    await unlink(join(restored, 'ünïcödé name.txt'));
    await writeFile(join(restored, 'extra'), '');
    await writeFile(join(restored, 'dir/sub/b.bin'), Buffer.alloc(4096, 2));
    const { differences } = await compareTrees(source, restored, full);
    const byPath = (path: string) => differences.filter((difference) => difference.path === path).map((difference) => difference.what);
    expect(byPath('ünïcödé name.txt')).toEqual(['missing from the restore']);
    expect(byPath('extra')).toEqual(['not in the source']);
    expect(byPath('dir/sub/b.bin')).toEqual([expect.stringMatching(/^mode 100644 != 100600$/), 'content differs from byte 0']);
    expect(byPath('empty.txt')).toEqual(['size 0 != 13']);
    expect(byPath('link')).toEqual(['symlink target "dir/a.txt" != "elsewhere"']);
    expect(byPath('dir/a.txt')).toEqual([
      expect.stringMatching(/^extended attributes .*user\.note.* != /),
      'hard links dir/a.txt = hard != none',
    ]);
    // The copy that replaced the hard link lost the shared inode's attributes too.
    expect(byPath('hard')).toEqual([
      expect.stringMatching(/^extended attributes .*user\.note.* != \[\]$/),
      'hard links dir/a.txt = hard != none',
    ]);
  });

  it('in sample mode checks presence everywhere but content only in a deterministic sample', async () => {
    const { source, restored } = await twins();
    await writeFile(join(restored, 'dir/sub/b.bin'), Buffer.alloc(4096, 2));
    const first = await compareTrees(source, restored, { ...full, mode: 'sample', sampleMaxFiles: 1 });
    const second = await compareTrees(source, restored, { ...full, mode: 'sample', sampleMaxFiles: 1 });
    expect(first).toEqual(second);
    const all = await compareTrees(source, restored, { ...full, mode: 'sample', sampleMaxFiles: 100 });
    expect(all.differences.map((difference) => difference.path)).toEqual(['dir/sub/b.bin']);
    await unlink(join(restored, 'empty.txt'));
    expect((await compareTrees(source, restored, { ...full, mode: 'sample', sampleMaxFiles: 0 })).differences).toEqual([
      { path: 'empty.txt', what: 'missing from the restore' },
    ]);
  });
});

describe('compareTrees stopped by its signal', () => {
  it('rejects at once with an aborted signal, before running getfattr', async () => {
    const { source, restored } = await twins();
    const calls: string[] = [];
    const counting = { run: async (command: string, args: readonly string[]) => (calls.push(command), runner.run(command, args)) };
    await expect(
      compareTrees(source, restored, { ...full, runner: counting, signal: AbortSignal.abort(new Error('stop')) }),
    ).rejects.toThrow('stop');
    expect(calls).toEqual([]);
  });

  it('hands the signal to getfattr, so an abort stops the program, and rejects', async () => {
    const { source, restored } = await twins();
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    // Stands for a getfattr that runs long: it ends only when its signal aborts, as spawn({ signal }) does.
    const slow = {
      run: (_command: string, _args: readonly string[], options?: { readonly signal?: AbortSignal }) => {
        seen.push(options?.signal);
        if (seen.length === 2) controller.abort(new Error('interrupted'));
        return new Promise<{ stdout: string; stderr: string }>((_resolve, reject) =>
          options?.signal?.addEventListener('abort', () => reject(new Error('getfattr killed'))),
        );
      },
    };
    await expect(compareTrees(source, restored, { ...full, runner: slow, signal: controller.signal })).rejects.toThrow('getfattr killed');
    expect(seen).toEqual([controller.signal, controller.signal]);
  });

  it('rejects after a runner that ignores the signal returns, instead of comparing on', async () => {
    const { source, restored } = await twins();
    const controller = new AbortController();
    const deaf = {
      run: async (command: string, args: readonly string[]) => {
        controller.abort(new Error('interrupted'));
        return runner.run(command, args);
      },
    };
    await expect(compareTrees(source, restored, { ...full, runner: deaf, signal: controller.signal })).rejects.toThrow('interrupted');
  });
});

describe('parseGetfattr', () => {
  it('reads escaped paths and base64 values relative to the root', () => {
    const output = '# file: /r/dir/a\\040b\\\\c\nuser.x=0sYQ==\nsecurity.y=0sYg==\n\n# file: /r/\\303\\274\nuser.z=0sYw==\n';
    const parsed = parseGetfattr(output, '/r');
    expect([...parsed.keys()]).toEqual(['dir/a b\\c', 'ü']);
    expect(Object.fromEntries(parsed.get('dir/a b\\c') ?? [])).toEqual({ 'user.x': '0sYQ==', 'security.y': '0sYg==' });
  });
});
