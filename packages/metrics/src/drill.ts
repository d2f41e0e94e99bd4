import { renderCheckTextfile } from './checks';

/** The last drill of one subvolume in one mode: what the drill record keeps and the textfile shows. */
export interface DrillOutcome {
  readonly subvolume: string;
  /** `full`: the chain restored into scratch and verified; `sample`: sampled archived chunks thawed and re-hashed. */
  readonly mode: 'full' | 'sample';
  readonly ok: boolean;
  /** When the last drill in this mode finished, seconds since the epoch. */
  readonly lastAttempt: number;
  /** When the last passing drill in this mode finished; null until one passed. A failed drill keeps it. */
  readonly lastSuccess: number | null;
}

/**
 * The drill's own Prometheus textfile, labelled by subvolume and mode: written beside
 * the backup's, so neither rewrites the other's gauges.
 */
export function renderDrillTextfile(outcomes: readonly DrillOutcome[]): string {
  return renderCheckTextfile(
    'drill',
    outcomes.map(({ subvolume, mode, ...outcome }) => ({ labels: { subvolume, mode }, ...outcome })),
  );
}
