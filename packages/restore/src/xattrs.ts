import type { ProcessRunner } from '@org/btrfs-s3-core';

/** Extended attributes by relative path, each `name -> base64 value`. */
export type XattrMap = Map<string, Map<string, string>>;

/** getfattr escapes bytes outside printable ASCII as `\ooo` and the backslash as `\\`. */
function unescapePath(escaped: string): string {
  const input = Buffer.from(escaped, 'utf8');
  const bytes: number[] = [];
  const BACKSLASH = 0x5c;
  const isOctal = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x37;
  for (let index = 0; index < input.length; index += 1) {
    const byte = input[index] ?? 0;
    if (byte === BACKSLASH && isOctal(input[index + 1]) && isOctal(input[index + 2]) && isOctal(input[index + 3])) {
      bytes.push(parseInt(input.subarray(index + 1, index + 4).toString('latin1'), 8));
      index += 3;
    } else if (byte === BACKSLASH && input[index + 1] === BACKSLASH) {
      bytes.push(BACKSLASH);
      index += 1;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses `getfattr -R -d -m - -e base64 --absolute-names -P ROOT` output into relative paths. */
export function parseGetfattr(output: string, root: string): XattrMap {
  const result: XattrMap = new Map();
  let current: Map<string, string> | undefined;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      const absolute = unescapePath(line.slice('# file: '.length));
      const path = absolute === root ? '' : absolute.startsWith(prefix) ? absolute.slice(prefix.length) : absolute;
      current = new Map();
      result.set(path, current);
    } else if (line.trim() !== '' && current !== undefined) {
      const eq = line.indexOf('=');
      current.set(eq === -1 ? line : line.slice(0, eq), eq === -1 ? '' : line.slice(eq + 1));
    }
  }
  return result;
}

/** All extended attributes under `root`, in one getfattr run (package `attr`); `signal` stops it. */
export async function readXattrs(runner: Pick<ProcessRunner, 'run'>, root: string, signal?: AbortSignal): Promise<XattrMap> {
  signal?.throwIfAborted();
  const args = ['--recursive', '--no-dereference', '--dump', '--match=-', '--encoding=base64', '--absolute-names', '--physical', root];
  const { stdout } = await runner.run('getfattr', args, signal === undefined ? undefined : { signal });
  signal?.throwIfAborted();
  return parseGetfattr(stdout, root);
}
