/** A label value escaped for the text exposition format. */
export function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** One sample: its labels (in this order) and value. */
export type Sample = readonly [labels: Readonly<Record<string, string>>, value: number];

/**
 * One gauge in the text exposition format: HELP, TYPE and a line per sample. A gauge
 * without samples keeps its HELP and TYPE, so the file always says what it can carry.
 */
export function gauge(name: string, help: string, samples: readonly Sample[]): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...samples.map(([labels, value]) => {
      const pairs = Object.entries(labels).map(([key, text]) => `${key}="${label(text)}"`);
      return `${name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${value}`;
    }),
  ];
}

/** The lines of a textfile, newline-terminated as the format requires. */
export const textfile = (lines: readonly string[]): string => `${lines.join('\n')}\n`;
