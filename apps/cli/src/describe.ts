import type { PlanEntry, SubvolumeOutcome } from '@org/btrfs-s3-backup';
import { formatBytes, formatRate } from '@org/btrfs-s3-metrics';

/** One line per planned subvolume: what would run and why. */
export function describePlan(plan: PlanEntry): string {
  const what = plan.action === 'incremental' ? `incremental on ${plan.parentSnapshot}` : plan.action;
  return `${plan.subvolume}: ${what} (${plan.reason})`;
}

/** One line per subvolume of a finished run. */
export function describeOutcome(outcome: SubvolumeOutcome): string {
  switch (outcome.result) {
    case 'published': {
      const { metrics } = outcome;
      return `${outcome.subvolume}: ${metrics.kind} backup published (${formatBytes(metrics.bytes)} in ${metrics.chunks} chunks, ${metrics.parts} parts, ${metrics.retries} retries, ${metrics.elapsedSeconds.toFixed(1)} s, ${formatRate(metrics.bytes, metrics.elapsedSeconds)})`;
    }
    case 'snapshot-only':
      return `${outcome.subvolume}: snapshot ${outcome.snapshot} taken, not uploaded (--no-s3)`;
    case 'not-due':
      return `${outcome.subvolume}: nothing due (${outcome.reason})`;
    case 'failed':
      return `${outcome.subvolume}: FAILED: ${outcome.error}`;
  }
}
