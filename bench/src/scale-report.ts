// The scale run's report, in Markdown so its tables can go into docs/benchmark-scale.md.
import { type Analysis, mib, type PairFigures, type RunFigures } from './scale-analysis';
import type { ScaleModel } from './scale-model';
import { evenlySpaced, type Sample, sparkline } from './scale-stats';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export interface ReportContext {
  readonly command: string;
  readonly machine: string;
  readonly mainSamples: readonly Sample[];
}

const gib = (bytes: number, digits = 1) => `${(bytes / GiB).toFixed(digits)} GiB`;
const size = (bytes: number) => (bytes >= GiB && bytes % GiB === 0 ? gib(bytes, 0) : `${(bytes / MiB).toFixed(0)} MiB`);
const num = (value: number | undefined, digits = 2) => (value === undefined ? 'n/a' : value.toFixed(digits));
const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(2)} days`;
}

function runTable(runs: readonly RunFigures[]): string[] {
  const line = (name: string, value: (run: RunFigures) => string) => row([name, ...runs.map(value)]);
  return [
    row(['', ...runs.map((run) => run.label)]),
    row(['---', ...runs.map(() => '---')]),
    line('bytes', (run) => gib(run.report.totalBytes)),
    line(
      'part size, chunk size, concurrency',
      (run) => `${size(run.report.partSizeBytes)}, ${size(run.chunkSizeBytes)}, ${run.report.concurrency}`,
    ),
    line('parts, chunks', (run) => `${run.report.partCount}, ${run.report.chunkCount}`),
    line('upload time', (run) => duration(run.report.uploadSeconds)),
    line('throughput', (run) => `${(run.throughputBytesPerSecond / MiB).toFixed(0)} MiB/s`),
    line('parts per second', (run) => num(run.partsPerSecond)),
    line('CPU, of it before the upload', (run) => `${num(run.report.cpuSeconds, 1)} s, ${num(run.report.startCpuSeconds)} s`),
    line('CPU s/GiB, whole run', (run) => num(run.cpuPerGiB)),
    line('CPU s/GiB, first chunk / later chunks', (run) => `${num(run.cpuPerGiBFirstChunk)} / ${num(run.cpuPerGiBLaterChunks)}`),
    line('CPU not explained by bytes (start-up, pool first touch)', (run) => `${num(run.fixedCpuSeconds, 1)} s`),
    line('peak RSS (VmHWM), bound', (run) => `${mib(run.report.peakRssBytes)} MiB, ${mib(run.boundBytes)} MiB`),
    line('heap kept per part', (run) => (run.heapPerPartBytes === undefined ? 'n/a' : `${run.heapPerPartBytes.toFixed(0)} B`)),
    line('retries', (run) => String(run.report.retries)),
  ];
}

function rssSection(analysis: Analysis, samples: readonly Sample[]): string[] {
  const lines = [
    `RSS, one character per ${Math.max(1, Math.round(samples.length / 60))} s: \`${sparkline(samples.map((s) => s.rssBytes))}\``,
    '',
  ];
  lines.push(row(['t (s)', 'sent (GiB)', 'RSS (MiB)', 'CPU (s)', 'MiB/s since the row above']), row(['---', '---', '---', '---', '---']));
  let previous: Sample | undefined;
  for (const sample of evenlySpaced(samples, 12)) {
    const rate = previous === undefined ? '' : ((sample.bytes - previous.bytes) / (sample.t - previous.t) / MiB).toFixed(0);
    lines.push(row([sample.t.toFixed(0), (sample.bytes / GiB).toFixed(2), mib(sample.rssBytes), sample.cpuSeconds.toFixed(1), rate]));
    previous = sample;
  }
  const flat = analysis.flatness;
  lines.push('');
  if (flat === undefined) {
    lines.push('No samples after the warm-up: RSS not judged (a quick check).');
  } else {
    const verdict = flat.flat === undefined ? 'not judged (too few samples)' : flat.flat ? 'flat within 10%' : 'NOT flat within 10%';
    lines.push(
      `After the warm-up (t >= ${flat.fromSeconds.toFixed(0)} s, ${flat.samples} samples): min ${mib(flat.min)}, median ${mib(flat.median)}, ` +
        `max ${mib(flat.max)} MiB; ${(flat.spread * 100).toFixed(1)}% from lowest to highest: ${verdict}.`,
    );
  }
  return lines;
}

function modelSection(model: ScaleModel): string[] {
  const { layout, requests, cpu, memory } = model;
  return [
    `${gib(layout.totalBytes, 0)} as ${model.chunks} chunks of up to ${size(layout.chunkSizeBytes)} (${model.partsPerFullChunk} parts of ` +
      `${size(layout.partSizeBytes)} in a full one), ${model.parts} parts, concurrency ${layout.concurrency}:`,
    '',
    row(['', 'model']),
    row(['---', '---']),
    row([
      'requests',
      `${requests.total}: ${requests.uploadPart} UploadPart, ${requests.listParts} ListParts, ${requests.createMultipartUpload} each of Create, Complete, HeadObject`,
    ]),
    row([
      'client CPU',
      `${duration(cpu.total)} (${cpu.total.toFixed(0)} s): bytes ${cpu.bytes.toFixed(0)} s, parts ${cpu.parts.toFixed(0)} s, fixed ${cpu.fixed.toFixed(0)} s`,
    ]),
    row(['client ceiling (one core)', `${(model.clientCeilingBytesPerSecond / MiB).toFixed(0)} MiB/s`]),
    row([
      'memory',
      `${mib(memory.peak)} MiB: the measured peak ${mib(memory.measuredPeak)}, and ${mib(memory.moreParts)} kept for the parts beyond the run's; bound ${mib(memory.bound)} (a pool of ${mib(memory.pool)})`,
    ]),
    '',
    row(['uplink', 'uplink alone', 'bound by', 'time', 'client cores busy']),
    row(['---', '---', '---', '---', '---']),
    ...model.rates.map((rate) =>
      row([
        rate.bitsPerSecond >= 1e9 ? `${rate.bitsPerSecond / 1e9} Gbit/s` : `${rate.bitsPerSecond / 1e6} Mbit/s`,
        duration(rate.linkSeconds),
        rate.boundBy,
        duration(rate.seconds),
        rate.cores.toFixed(3),
      ]),
    ),
  ];
}

function pairSection(analysis: Analysis, pairs: readonly PairFigures[]): string[] {
  const first = pairs[0];
  if (first === undefined) return [];
  const big = size(first.big.report.partSizeBytes);
  const small = size(first.small.report.partSizeBytes);
  const lines = [
    `Pairs of ${gib(first.big.report.totalBytes)} runs back to back, CPU per GiB after the first chunk (${size(first.big.chunkSizeBytes)} chunks):`,
    '',
    row(['pair', `${big} parts (s/GiB)`, `${small} parts (s/GiB)`, 'per part (ms)', `peak RSS (MiB), ${big} / ${small}`]),
    row(['---', '---', '---', '---', '---']),
    ...pairs.map((pair, index) =>
      row([
        String(index + 1),
        num(pair.big.cpuPerGiBLaterChunks),
        num(pair.small.cpuPerGiBLaterChunks),
        pair.split === undefined ? 'n/a' : num(pair.split.perPart * 1000, 1),
        `${mib(pair.big.report.peakRssBytes)} / ${mib(pair.small.report.peakRssBytes)}`,
      ]),
    ),
    '',
  ];
  const { perPart, costs } = analysis;
  if (perPart !== undefined && costs !== undefined) {
    lines.push(
      `Per part: median ${num(perPart.median * 1000, 1)} ms (${num(perPart.min * 1000, 1)} to ${num(perPart.max * 1000, 1)}). ` +
        `Per byte, the ${analysis.main.label}'s rate after its first chunk less its parts' share: ${num(costs.perByte * GiB)} s/GiB.`,
    );
  }
  return lines;
}

export function renderReport(analysis: Analysis, context: ReportContext): string {
  const lines = [
    '# Scale run',
    '',
    `Command: \`${context.command}\``,
    '',
    `Machine: ${context.machine}`,
    '',
    ...runTable([analysis.main]),
    '',
  ];
  lines.push(`## RSS of the ${analysis.main.label}`, '', ...rssSection(analysis, context.mainSamples), '');
  if (analysis.pairs.length > 0) lines.push('## Per-part cost', '', ...pairSection(analysis, analysis.pairs), '');
  if (analysis.model !== undefined) lines.push('## 5 TiB, on paper', '', ...modelSection(analysis.model), '');
  for (const note of analysis.notes) lines.push(`Note: ${note}.`);
  lines.push(analysis.problems.length === 0 ? 'Verdict: PASS' : `Verdict: FAIL\n${analysis.problems.map((p) => `- ${p}`).join('\n')}`);
  return `${lines.join('\n')}\n`;
}
