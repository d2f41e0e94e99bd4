const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 -> "1.5 KiB": binary units, as the config's sizes are. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Bytes per second over an elapsed time; 0 when no time has passed. */
export function throughput(bytes: number, elapsedSeconds: number): number {
  return elapsedSeconds > 0 ? bytes / elapsedSeconds : 0;
}

export function formatRate(bytes: number, elapsedSeconds: number): string {
  return `${formatBytes(throughput(bytes, elapsedSeconds))}/s`;
}
