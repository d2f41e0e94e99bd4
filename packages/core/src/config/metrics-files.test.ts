import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logging/logger';
import { commandFilePath, readMetricsRecord } from './metrics-files';

describe('metrics files', () => {
  let dir: string;
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
  const parse = (document: unknown) => {
    if (typeof document !== 'object' || document === null || !('n' in document) || typeof document.n !== 'number') throw new Error('no n');
    return document.n;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metrics-files-'));
    warnings.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("names each command's file beside the backup's", () => {
    expect(commandFilePath('/var/lib/node_exporter/btrfs-to-s3.prom', 'verify')).toBe('/var/lib/node_exporter/btrfs-to-s3-verify.prom');
    expect(commandFilePath('/var/lib/btrfs-to-s3/metrics.json', 'inventory')).toBe('/var/lib/btrfs-to-s3/metrics-inventory.json');
  });

  it('reads a record, gives the empty one for a missing file, and replaces a damaged one with a warning', async () => {
    writeFileSync(join(dir, 'ok.json'), '{"n": 7}');
    writeFileSync(join(dir, 'torn.json'), '{"n": ');
    writeFileSync(join(dir, 'wrong.json'), '{"m": 1}');

    expect(await readMetricsRecord(join(dir, 'ok.json'), logger, parse, () => 0)).toBe(7);
    expect(await readMetricsRecord(join(dir, 'missing.json'), logger, parse, () => 0)).toBe(0);
    expect(warnings).toEqual([]);
    expect(await readMetricsRecord(join(dir, 'torn.json'), logger, parse, () => 0)).toBe(0);
    expect(await readMetricsRecord(join(dir, 'wrong.json'), logger, parse, () => 0)).toBe(0);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain(`${join(dir, 'wrong.json')} is damaged and is replaced`);
  });

  it('throws when the file cannot be read at all, rather than overwrite what it cannot see', async () => {
    mkdirSync(join(dir, 'a-directory.json'));
    await expect(readMetricsRecord(join(dir, 'a-directory.json'), logger, parse, () => 0)).rejects.toThrow(/EISDIR/);
  });
});
