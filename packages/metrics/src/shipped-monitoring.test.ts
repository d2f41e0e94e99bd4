import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { METRIC_NAMES } from './names';

// The alert rules, their promtool unit tests and the Grafana dashboard shipped in docs/.
const root = resolve(__dirname, '..', '..', '..');
const RULES = join(root, 'docs', 'prometheus', 'btrfs-to-s3.rules.yml');
const RULE_TESTS = join(root, 'docs', 'prometheus', 'btrfs-to-s3.rules.test.yml');
const DASHBOARD = join(root, 'docs', 'grafana', 'btrfs-to-s3.json');

const KNOWN_METRICS: ReadonlySet<string> = new Set(Object.values(METRIC_NAMES).flat());
const metricNamesIn = (text: string) => [...text.matchAll(/btrfs_to_s3_[a-z0-9_]+/g)].map((match) => match[0]);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const execFileAsync = promisify(execFile);

/** promtool's stdout; fails, never skips, when promtool is missing or reports a problem. */
async function promtool(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('promtool', args, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    // Not `instanceof Error`: jest runs tests in another realm than the one child_process makes errors in.
    if (isRecord(error) && error.code === 'ENOENT') {
      throw new Error("promtool is not on PATH: scripts/setup.sh installs it (from Debian's prometheus package)", { cause: error });
    }
    const output = (key: 'stdout' | 'stderr') => {
      const value = isRecord(error) ? error[key] : undefined;
      return typeof value === 'string' ? value : '';
    };
    throw new Error(`promtool ${args.join(' ')} failed:\n${output('stdout')}${output('stderr')}`, { cause: error });
  }
}

/** `value[key]` as an array, or a failure naming `where`: the files are checked, not trusted. */
function arrayAt(value: unknown, key: string, where: string): unknown[] {
  const found = isRecord(value) ? value[key] : undefined;
  if (!Array.isArray(found)) throw new Error(`${where}: expected a list under "${key}"`);
  return found;
}

function stringAt(value: unknown, key: string, where: string): string {
  const found = isRecord(value) ? value[key] : undefined;
  if (typeof found !== 'string') throw new Error(`${where}: expected a string under "${key}"`);
  return found;
}

interface Alert {
  readonly name: string;
  readonly labels: unknown;
  readonly annotations: unknown;
}

async function alerts(): Promise<Alert[]> {
  const doc: unknown = parse(await readFile(RULES, 'utf8'));
  return arrayAt(doc, 'groups', RULES)
    .flatMap((group) => arrayAt(group, 'rules', RULES))
    .filter((rule) => isRecord(rule) && 'alert' in rule)
    .map((rule) => ({
      name: stringAt(rule, 'alert', RULES),
      labels: isRecord(rule) ? rule.labels : undefined,
      annotations: isRecord(rule) ? rule.annotations : undefined,
    }));
}

/** Each alertname the unit tests evaluate, with how many of its cases expect it to fire. */
async function testedAlerts(): Promise<Map<string, { cases: number; firing: number }>> {
  const doc: unknown = parse(await readFile(RULE_TESTS, 'utf8'));
  const tested = new Map<string, { cases: number; firing: number }>();
  for (const test of arrayAt(doc, 'tests', RULE_TESTS)) {
    for (const check of arrayAt(test, 'alert_rule_test', RULE_TESTS)) {
      const name = stringAt(check, 'alertname', RULE_TESTS);
      const expected = arrayAt(check, 'exp_alerts', `${RULE_TESTS} (${name})`);
      const counts = tested.get(name) ?? { cases: 0, firing: 0 };
      tested.set(name, { cases: counts.cases + 1, firing: counts.firing + (expected.length > 0 ? 1 : 0) });
    }
  }
  return tested;
}

/** Every string under a key named `key`, anywhere in `value`. */
function stringsUnder(value: unknown, key: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => stringsUnder(item, key));
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === key && typeof v === 'string' ? [v] : stringsUnder(v, key)));
}

async function dashboard(): Promise<Record<string, unknown>> {
  const doc: unknown = JSON.parse(await readFile(DASHBOARD, 'utf8'));
  if (!isRecord(doc)) throw new Error(`${DASHBOARD}: not a JSON object`);
  return doc;
}

/** The panels with their targets: every panel, and those inside collapsed rows. */
function panels(doc: Record<string, unknown>): Record<string, unknown>[] {
  const top = arrayAt(doc, 'panels', DASHBOARD).filter(isRecord);
  return [...top, ...top.flatMap((panel) => (Array.isArray(panel.panels) ? panel.panels.filter(isRecord) : []))];
}

describe('the shipped Prometheus alert rules (docs/prometheus)', () => {
  it('pass promtool check rules', async () => {
    await expect(promtool(['check', 'rules', RULES])).resolves.toContain('SUCCESS');
  });

  it('pass their promtool unit tests', async () => {
    await expect(promtool(['test', 'rules', RULE_TESTS])).resolves.toContain('SUCCESS');
  }, 300_000);

  it('name only metrics btrfs-to-s3 writes', async () => {
    const named = metricNamesIn(await readFile(RULES, 'utf8'));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !KNOWN_METRICS.has(name))).toEqual([]);
  });

  it('give every alert a severity, a summary and a description', async () => {
    const all = await alerts();
    expect(all.length).toBeGreaterThan(0);
    for (const alert of all) {
      expect({ alert: alert.name, severity: stringAt(alert.labels, 'severity', alert.name) }).toEqual({
        alert: alert.name,
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
      expect(stringAt(alert.annotations, 'summary', alert.name)).not.toBe('');
      expect(stringAt(alert.annotations, 'description', alert.name)).not.toBe('');
    }
  });

  it('are each tested, with at least one case where the alert fires', async () => {
    const names = (await alerts()).map((alert) => alert.name);
    const tested = await testedAlerts();
    expect(names.filter((name) => (tested.get(name)?.firing ?? 0) === 0)).toEqual([]);
  });

  it('are each tested with at least one case where the alert stays quiet', async () => {
    const names = (await alerts()).map((alert) => alert.name);
    const tested = await testedAlerts();
    expect(
      names.filter((name) => {
        const counts = tested.get(name);
        return counts === undefined || counts.cases === counts.firing;
      }),
    ).toEqual([]);
  });

  it('have unit tests only for alerts that exist (promtool passes a quiet case for an unknown name)', async () => {
    const names = new Set((await alerts()).map((alert) => alert.name));
    expect([...(await testedAlerts()).keys()].filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('the shipped Grafana dashboard (docs/grafana)', () => {
  it('chooses its Prometheus data source and hosts through variables', async () => {
    const doc = await dashboard();
    expect(doc.schemaVersion).toEqual(expect.any(Number));
    const variables = arrayAt(doc.templating, 'list', DASHBOARD);
    expect(variables).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(variables).toContainEqual(expect.objectContaining({ name: 'instance', type: 'query' }));
  });

  it('queries through the datasource variable in every panel and target, never a fixed data source', async () => {
    const withTargets = panels(await dashboard()).filter((panel) => Array.isArray(panel.targets));
    expect(withTargets.length).toBeGreaterThan(0);
    for (const panel of withTargets) {
      const title = stringAt(panel, 'title', DASHBOARD);
      expect({ title, datasource: panel.datasource }).toEqual({ title, datasource: { type: 'prometheus', uid: '${datasource}' } });
      for (const target of arrayAt(panel, 'targets', title)) {
        expect({ title, datasource: isRecord(target) ? target.datasource : undefined }).toEqual({
          title,
          datasource: { type: 'prometheus', uid: '${datasource}' },
        });
      }
    }
  });

  it('names only metrics btrfs-to-s3 writes, in every query', async () => {
    const doc = await dashboard();
    const queries = [...stringsUnder(doc, 'expr'), ...stringsUnder(doc, 'query'), ...stringsUnder(doc, 'definition')];
    const named = queries.flatMap(metricNamesIn);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !KNOWN_METRICS.has(name))).toEqual([]);
  });

  it('has panel queries that parse as PromQL (promtool, as recording rules)', async () => {
    const exprs = stringsUnder(await dashboard(), 'expr');
    expect(exprs.length).toBeGreaterThan(0);
    const rules = exprs.map((expr, index) => ({ record: `dashboard:query_${index}`, expr: expr.replace(/\$\{?instance\}?/g, '.+') }));
    const dir = await mkdtemp(join(tmpdir(), 'btrfs-to-s3-dashboard-'));
    try {
      const file = join(dir, 'queries.rules.yml');
      await writeFile(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      await expect(promtool(['check', 'rules', file])).resolves.toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
