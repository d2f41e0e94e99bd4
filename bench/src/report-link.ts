// The results page's sections on the uplink: the rate-limited runs (each tool's share of the
// link rate) and the upload rate cap (the steady rate against the cap, with the anchors).
import { type CapStats, type Evaluation, LABELS, type LinkStats } from './evaluate';
import { formatRate } from './rate';
import { bytes, f0, f1, f2, pct1, range, table } from './report-format';
import type { Results } from './results';

const mbits = (bytesPerSecond: number) => f1((bytesPerSecond * 8) / 1e6);

export function linkSection(results: Results, evaluation: Evaluation): string[] {
  const link = results.link;
  if (link === undefined || evaluation.link.length === 0) return [];
  const { settings } = link;
  const dataset = results.datasets.find((d) => d.id === settings.dataset);
  const out: string[] = ['## Rate-limited link', ''];
  out.push(
    `The client runs in a network namespace of its own, joined to the gateway by a veth pair whose client end is shaped with \`tc ... tbf\``,
  );
  out.push(
    `(the uplink; nothing else is shaped: the gateway's own traffic stays on loopback). Each tool backs up the ${settings.dataset} dataset` +
      (dataset === undefined ? '' : ` (${bytes(dataset.streamBytes)} send stream)`) +
      ` with its own defaults, ${settings.rounds} round(s).` +
      (settings.rttMs > 0
        ? ` A relay in front of the gateway holds every byte ${f0(settings.rttMs / 2)} ms each way (${f0(settings.rttMs)} ms added round trip).`
        : " No latency is added: the round trip is the veth's, well under a millisecond."),
  );
  out.push('"share of the link" is send stream bits per second of the whole run (start-up and the end included) over the link rate; "link');
  out.push(
    'carried" is what the link moved (HTTP, TCP/IP and Ethernet headers included) over the same. With 1500-byte frames the payload can be at most about 95.6% of the rate.',
  );
  out.push('');
  const rows = [...evaluation.link]
    .sort((a, b) => a.rateBitsPerSecond - b.rateBitsPerSecond)
    .map((s: LinkStats) => [
      formatRate(s.rateBitsPerSecond / 8),
      LABELS[s.tool],
      String(s.n),
      range(s.wall, f2),
      range(s.share, pct1),
      range(s.busy, pct1),
      range(s.rssMiB, f0),
      range(s.cpuPerGiB, f2),
    ]);
  out.push(table(['link', 'tool', 'runs', 'wall s', 'share of the link', 'link carried', 'peak RSS MiB', 'CPU s/GiB'], rows));
  out.push('');
  const unshaped = (['ours-backup', 'aws-upload', 'rclone-upload'] as const).flatMap((tool) => {
    const s = evaluation.stats[settings.dataset]?.[tool];
    return s === undefined ? [] : [`${LABELS[tool]} ${mbits(s.throughput.median * 1e6)}`];
  });
  if (unshaped.length > 0)
    out.push(
      `Unshaped, in the same run, the same dataset went at (Mbit/s, medians): ${unshaped.join(', ')}. A link faster than a tool goes unshaped on this machine is not what bounds that tool here.`,
      '',
    );
  return out;
}

export function capSection(results: Results, evaluation: Evaluation): string[] {
  const cap = results.cap;
  if (cap === undefined || evaluation.cap.length === 0) return [];
  const out: string[] = ['## Upload rate cap', ''];
  out.push(
    `Each tool uploads the ${cap.settings.dataset} dataset's send stream capped at ${formatRate(cap.settings.bytesPerSecond)} through a relay in front of the gateway`,
  );
  out.push(
    'that counts the bytes it receives (request lines, headers and bodies) once a second; nothing else limits the path near the cap.',
  );
  out.push('"steady rate" is the rate between the moments 5% and 95% of those bytes had arrived (start-up, an initial burst and the last');
  out.push('parts finishing are left out); "fastest 10 s" is the highest rate over any 10 s inside that span.');
  out.push('');
  out.push(
    table(
      ['tool', 'option', 'runs', 'cap', 'steady rate', 'off the cap', 'over', 'fastest 10 s', 'wall s', 'CPU s/GiB'],
      evaluation.cap.map((s: CapStats) => [
        LABELS[s.tool],
        `\`${s.option}\``,
        String(s.n),
        `${mbits(s.capBytesPerSecond)} Mbit/s`,
        `${range(s.steady, mbits)} Mbit/s`,
        range(s.offBy, (v) => `${v >= 0 ? '+' : ''}${pct1(v)}`),
        `${range(s.windowSeconds, f0)} s`,
        s.peak10 === undefined ? '-' : `${range(s.peak10, mbits)} Mbit/s`,
        range(s.wall, f2),
        range(s.cpuPerGiB, f2),
      ]),
    ),
  );
  out.push('');
  return out;
}
