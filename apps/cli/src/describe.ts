import type { PendingResume, PlanEntry, SubvolumeOutcome } from '@org/btrfs-s3-backup';
import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';

/** One line per planned subvolume: what would run and why. */
export function describePlan(plan: PlanEntry): string {
  const what = plan.action === 'incremental' ? `incremental on ${plan.parentSnapshot}` : plan.action;
  const resume = plan.resume === undefined ? '' : `; ${describeResume(plan.resume)}`;
  return `${plan.subvolume}: ${what} (${plan.reason})${resume}`;
}

/** "resumes the interrupted full of <snapshot>: 1.2 GiB in 3 chunks and 4 parts uploaded, last progress ... (kept until ...)" */
export function describeResume(resume: PendingResume): string {
  const kind = resume.kind === 'full' ? 'full' : 'incremental';
  return `an interrupted ${kind} backup of ${resume.snapshot} is pending: ${formatBytes(resume.bytesDone)} uploaded in ${resume.chunksDone} chunk(s) and ${resume.partsDone} part(s), last progress ${resume.updatedAt}; the next run of the same plan resumes it (until ${resume.expiresAt})`;
}

/** One line per subvolume of a finished run. */
export function describeOutcome(outcome: SubvolumeOutcome): string {
  switch (outcome.result) {
    case 'published': {
      const { metrics } = outcome;
      return `${outcome.subvolume}: ${metrics.kind} backup published (${formatBytes(metrics.bytes)} in ${metrics.chunks} chunks, ${metrics.parts} parts, ${metrics.retries} retries, ${metrics.elapsedSeconds.toFixed(1)} s, ${formatRate(metrics.bytes, metrics.elapsedSeconds)}${metrics.resumedBytes > 0 ? `; resumed: ${formatBytes(metrics.resumedBytes)} were already uploaded` : ''})`;
    }
    case 'snapshot-only':
      return `${outcome.subvolume}: snapshot ${outcome.snapshot} taken, not uploaded (--no-s3)`;
    case 'not-due':
      return `${outcome.subvolume}: nothing due (${outcome.reason})`;
    case 'failed':
      return `${outcome.subvolume}: FAILED: ${outcome.error}`;
  }
}
