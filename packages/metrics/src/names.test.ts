import { renderCheckTextfile } from './checks';
import { renderInventoryTextfile } from './inventory';
import { type MetricsFile, METRIC_NAMES } from './names';
import { renderPrometheusTextfile } from './prometheus';

const typed = (text: string) => [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((match) => match[1]);

describe('METRIC_NAMES', () => {
  const rendered: Record<MetricsFile, string> = {
    backup: renderPrometheusTextfile({ run: { inProgress: false, lastAttempt: 1, lastExitCode: 0 }, subvolumes: [], lastSuccess: [] }),
    drill: renderCheckTextfile('drill', []),
    verify: renderCheckTextfile('verify', []),
    prune: renderCheckTextfile('prune', []),
    inventory: renderInventoryTextfile(1, [], { currency: 'USD', perGibMonth: {} }),
  };

  it.each(Object.keys(rendered) as MetricsFile[])('lists exactly the metrics the %s textfile carries', (file) => {
    expect(typed(rendered[file]).sort()).toEqual([...METRIC_NAMES[file]].sort());
  });
});
