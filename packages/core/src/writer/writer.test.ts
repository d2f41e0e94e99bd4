import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writerIdentity } from './writer';

describe('writerIdentity', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const withMachineId = (name: string, id: string) => {
    writeFileSync(join(dir, name), `${id}\n`);
    return [join(dir, name)];
  };

  it('is stable for one machine id, differs between machine ids, and never contains the machine id', async () => {
    const machineId = 'b08dfa6083e7567a1921a715000001fb';
    const first = await writerIdentity({ machineIdPaths: withMachineId('a', machineId), host: 'one' });
    const again = await writerIdentity({ machineIdPaths: withMachineId('b', machineId), host: 'renamed' });
    const other = await writerIdentity({ machineIdPaths: withMachineId('c', 'c'.repeat(32)), host: 'one' });

    expect(first.id).toMatch(/^[0-9a-f]{32}$/);
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    expect(first.id).not.toContain(machineId.slice(0, 8));
    expect(first.host).toBe('one');
  });

  it('falls back to the host name where there is no machine id (some containers)', async () => {
    const missing = [join(dir, 'none')];
    const a = await writerIdentity({ machineIdPaths: missing, host: 'box-a' });
    const b = await writerIdentity({ machineIdPaths: missing, host: 'box-b' });
    expect(a.id).toMatch(/^[0-9a-f]{32}$/);
    expect(a.id).not.toBe(b.id);
  });
});
