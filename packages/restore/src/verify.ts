import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { firstDifference, type TreeEntry, walkTree } from './tree';
import { mapBounded, type ProcessRunner } from '@org/btrfs-s3-core';
import { readXattrs } from './xattrs';

export type VerifyMode = 'full' | 'sample' | 'none';

/** Files compared at once: small files are mostly waiting on open and read, large ones on the disk. */
const COMPARE_CONCURRENCY = 4;

export interface TreeDifference {
  readonly path: string;
  readonly what: string;
}

export interface TreeComparison {
  /** Entries whose metadata (and, for files, content) were compared. */
  readonly compared: number;
  readonly differences: readonly TreeDifference[];
}

export interface CompareOptions {
  readonly mode: 'full' | 'sample';
  /** In sample mode: at most this many files are compared in depth (`restore.sample_max_files`). */
  readonly sampleMaxFiles: number;
  /** Runs getfattr for extended attributes; must kill it when its `signal` aborts (spawnProcessRunner does). */
  readonly runner: Pick<ProcessRunner, 'run'>;
  /**
   * Stops the comparison (a full one reads every byte of both trees: hours on a large
   * restore): the walk, getfattr (through the runner) and the file being compared;
   * the comparison then rejects instead of resolving with a partial answer.
   */
  readonly signal?: AbortSignal;
}

/** A deterministic sample: the files whose path hashes sort first (same choice on every run). */
function sample(paths: readonly string[], max: number): Set<string> {
  const ranked = paths.map((path) => ({ path, rank: createHash('sha256').update(path).digest('hex') }));
  ranked.sort((a, b) => a.rank.localeCompare(b.rank));
  return new Set(ranked.slice(0, max).map((entry) => entry.path));
}

function octal(mode: number): string {
  return mode.toString(8);
}

function metadataDifferences(source: TreeEntry, restored: TreeEntry): string[] {
  const out: string[] = [];
  if (source.type !== restored.type) return [`type ${source.type} != ${restored.type}`];
  if (source.mode !== restored.mode) out.push(`mode ${octal(source.mode)} != ${octal(restored.mode)}`);
  if (source.uid !== restored.uid || source.gid !== restored.gid)
    out.push(`owner ${source.uid}:${source.gid} != ${restored.uid}:${restored.gid}`);
  if (source.size !== restored.size) out.push(`size ${source.size} != ${restored.size}`);
  if (source.target !== restored.target) out.push(`symlink target ${JSON.stringify(source.target)} != ${JSON.stringify(restored.target)}`);
  return out;
}

/** Paths that are hard links of one another in `tree`, as sorted groups keyed by their first path. */
function hardLinkGroups(tree: Map<string, TreeEntry>, paths: Iterable<string>): Map<string, string> {
  const byInode = new Map<number, string[]>();
  for (const path of paths) {
    const entry = tree.get(path);
    if (entry?.type !== 'file' || entry.nlink < 2) continue;
    byInode.set(entry.inode, [...(byInode.get(entry.inode) ?? []), path]);
  }
  const groupOf = new Map<string, string>();
  for (const group of byInode.values()) for (const path of group) groupOf.set(path, [...group].sort().join(' = '));
  return groupOf;
}

/**
 * Compares a restored tree with its source snapshot: the set of paths, and per path
 * type, mode, ownership, size, symlink target, extended attributes, hard-link
 * structure and content (byte for byte). `sample` compares every path's presence but only a
 * deterministic sample of files in depth.
 */
export async function compareTrees(sourceRoot: string, restoredRoot: string, options: CompareOptions): Promise<TreeComparison> {
  const { signal } = options;
  const [source, restored] = await Promise.all([walkTree(sourceRoot, signal), walkTree(restoredRoot, signal)]);
  const differences: TreeDifference[] = [];
  for (const path of source.keys()) if (!restored.has(path)) differences.push({ path, what: 'missing from the restore' });
  for (const path of restored.keys()) if (!source.has(path)) differences.push({ path, what: 'not in the source' });

  const common = [...source.keys()].filter((path) => restored.has(path));
  const files = common.filter((path) => source.get(path)?.type === 'file');
  const deep =
    options.mode === 'full'
      ? new Set(common)
      : new Set([...sample(files, options.sampleMaxFiles), ...common.filter((path) => source.get(path)?.type !== 'file')]);
  const [sourceXattrs, restoredXattrs] = await Promise.all([
    readXattrs(options.runner, sourceRoot, signal),
    readXattrs(options.runner, restoredRoot, signal),
  ]);
  const sourceLinks = hardLinkGroups(source, deep);
  const restoredLinks = hardLinkGroups(restored, deep);

  const inDepth = await mapBounded([...deep], COMPARE_CONCURRENCY, async (path): Promise<TreeDifference[]> => {
    signal?.throwIfAborted();
    const a = source.get(path);
    const b = restored.get(path);
    if (a === undefined || b === undefined) return [];
    const found = metadataDifferences(a, b);
    const xa = JSON.stringify([...(sourceXattrs.get(path) ?? new Map())].sort());
    const xb = JSON.stringify([...(restoredXattrs.get(path) ?? new Map())].sort());
    if (xa !== xb) found.push(`extended attributes ${xa} != ${xb}`);
    if (sourceLinks.get(path) !== restoredLinks.get(path))
      found.push(`hard links ${sourceLinks.get(path) ?? 'none'} != ${restoredLinks.get(path) ?? 'none'}`);
    if (a.type === 'file' && b.type === 'file' && a.size === b.size) {
      const offset = await firstDifference(join(sourceRoot, path), join(restoredRoot, path), a.size, signal);
      if (offset !== undefined) found.push(`content differs from byte ${offset}`);
    }
    return found.map((what) => ({ path, what }));
  });
  differences.push(...inDepth.flat());
  return { compared: deep.size, differences };
}
