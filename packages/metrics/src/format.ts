const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 -> "1.5 KiB": binary units, as the config's sizes are. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // Whole bytes: a rate below 1 KiB/s (a near-empty incremental) is not 231.34328358208955 B/s.
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Bytes per second over an elapsed time; 0 when no time has passed. */
export function throughput(bytes: number, elapsedSeconds: number): number {
  return elapsedSeconds > 0 ? bytes / elapsedSeconds : 0;
}

export function formatRate(bytes: number, elapsedSeconds: number): string {
  return `${formatBytes(throughput(bytes, elapsedSeconds))}/s`;
}
