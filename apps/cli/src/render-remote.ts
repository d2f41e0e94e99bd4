import {
  describeEntry,
  earlyDeletionWarning,
  type ListedBackup,
  type ListedSubvolume,
  type ListResult,
  type PruneResult,
  type VerifyReport,
} from '@org/btrfs-s3-bucket';
import { formatBytes } from '@org/btrfs-s3-metrics';

/** Human output of list, verify and prune: what `--json` holds, as readable lines. */

/** Pads every column but the last to its widest cell; one-cell rows are headings, indented less and not measured. */
export function alignColumns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths = rows
    .filter((row) => row.length > 1)
    .reduce<number[]>((max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)), []);
  return rows.map((row) =>
    row.length === 1
      ? `${indent}${row[0] ?? ''}`
      : `${indent}  ${row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('  ')}`.trimEnd(),
  );
}

const time = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

function backupRow(backup: ListedBackup): string[] {
  const mark = backup.current ? '>' : backup.reachable ? '*' : ' ';
  const state = backup.state === 'complete' ? '' : ` (${backup.state === 'broken' ? 'BROKEN MANIFEST' : 'NO MANIFEST'})`;
  return [
    mark,
    backup.kind,
    time(backup.createdAt),
    backup.totalBytes === null ? `${formatBytes(backup.storedBytes)} stored` : formatBytes(backup.totalBytes),
    backup.chunks === null ? '-' : `${backup.chunks} chunk(s)`,
    backup.storageClass ?? '-',
    `${backup.manifestKey}${state}`,
  ];
}

function listSubvolume(entry: ListedSubvolume): string[] {
  const pointer = entry.current === null ? 'no current.json' : `current.json -> ${entry.current.manifestKey}`;
  const lines = [`${entry.subvolume}${entry.configured ? '' : ' (not configured)'}: ${pointer}`];
  if (entry.chainBreak !== null) lines.push(`  the chain from current.json does not reach a full: ${entry.chainBreak}`);
  const rows: string[][] = [];
  for (const generation of entry.generations) {
    const root =
      generation.rootState === 'full'
        ? `full of ${time(generation.createdAt)}`
        : `chain broken at ${generation.root} (${generation.rootState})`;
    rows.push([`generation: ${root}${generation.current ? ', current' : ''}`]);
    rows.push(...generation.backups.map(backupRow));
  }
  lines.push(...alignColumns(rows, '  '));
  if (entry.restorablePoints.length > 0) {
    lines.push(
      `  restorable points (restore --at TIME takes the newest at or before TIME): ${entry.restorablePoints.map((point) => time(point.createdAt)).join(', ')}`,
    );
  }
  for (const failed of entry.incomplete) {
    lines.push(
      `  incomplete (failed run): ${failed.dir}/: ${failed.objects} object(s), ${formatBytes(failed.bytes)}, last written ${failed.ageHours.toFixed(1)} h ago`,
    );
  }
  if (entry.otherKeys.length > 0)
    lines.push(`  ${entry.otherKeys.length} other object(s) outside the backup layout, e.g. ${entry.otherKeys[0] ?? ''}`);
  if (entry.generations.length === 0 && entry.incomplete.length === 0) lines.push('  no backups in the bucket');
  return lines;
}

export function renderList(result: ListResult): string[] {
  if (result.subvolumes.length === 0) return [`no subvolumes under s3://${result.bucket}/${result.prefix}/subvol/`];
  return [...result.subvolumes.flatMap(listSubvolume), '(> what current.json points to; * reachable from it)'];
}

export function renderVerify(report: VerifyReport): string[] {
  const what =
    report.reads === 'all'
      ? 're-hashed'
      : report.reads === 'sample'
        ? `re-hashed (sample of ${report.sample ?? 0} per backup)`
        : 're-hashed (use --read-data or --sample N)';
  return report.subvolumes.flatMap((entry) => {
    const { chunks } = entry;
    const head =
      entry.currentManifest === null
        ? `${entry.subvolume}: FAILED`
        : `${entry.subvolume}: ${entry.ok ? 'OK' : 'FAILED'}: chain of ${entry.chain.length} backup(s) ending at ${entry.currentManifest}; ${chunks.present} of ${chunks.total} chunk(s) present with the recorded size; ${chunks.read} ${what}${entry.streamsVerified > 0 ? `; ${entry.streamsVerified} whole stream(s) matched` : ''}`;
    const skipped =
      entry.skipped.length === 0
        ? []
        : [`  ${entry.skipped.length} chunk(s) not readable without a thaw (run restore to thaw): skipped, not failed`];
    return [head, ...entry.problems.map((problem) => `  ${problem.message}`), ...skipped];
  });
}

export function renderPrune(result: PruneResult): string[] {
  const verb = result.dryRun ? 'would delete' : 'deleted';
  // What went, not what was planned: in a versioned bucket Object Lock may keep some of it.
  const amount = (entry: PruneResult['subvolumes'][number]) =>
    result.dryRun
      ? `${entry.delete.reduce((sum, item) => sum + item.objects, 0)} object(s), ${formatBytes(entry.delete.reduce((sum, item) => sum + item.bytes, 0))}`
      : `${entry.deletedObjects} object(s), ${formatBytes(entry.deletedBytes)}`;
  return result.subvolumes.flatMap((entry) => [
    `${entry.subvolume}: ${verb} ${entry.delete.length === 0 ? 'nothing' : amount(entry)}`,
    ...entry.delete.map((item) => `  ${result.dryRun ? 'delete' : 'pruned'} ${describeEntry(item)}: ${item.detail}`),
    ...entry.keep.map((item) => `  keep ${describeEntry(item)}: ${item.detail}`),
    ...entry.earlyDeletions.map((early) => `  warning: ${earlyDeletionWarning(early, result.dryRun)}`),
    ...entry.warnings.map((warning) => `  warning: ${warning}`),
    ...(entry.locked.versions === 0
      ? []
      : [
          `  Object Lock keeps ${entry.locked.versions} version(s), ${formatBytes(entry.locked.bytes)}${entry.locked.soonestRetainUntil === null ? '' : `, the first until ${time(entry.locked.soonestRetainUntil)}`}: not deleted yet, not a failure; a prune after that deletes them`,
        ]),
    `  ${result.dryRun ? 'would leave' : 'left'} ${entry.restorablePointsLeft.length} restorable point(s)${entry.restorablePointsLeft.length === 0 ? '' : `, from ${time(entry.restorablePointsLeft[0] ?? '')} to ${time(entry.restorablePointsLeft.at(-1) ?? '')}`} (s3.retain_generations sets how many generations stay)`,
  ]);
}
