import { backupPrefix, chunkKey, manifestKey, pointerKey } from '../manifest/keys';
import { parseManifest, serializeManifest } from '../manifest/parse';
import type { ManifestV1 } from '../manifest/schema';
import type { BackupKind } from '../snapshots/names';
import {
  buildInventory,
  dirOfManifest as dirOf,
  type ManifestRead,
  type PointerRead,
  type RemoteInventory,
  type RemoteObject,
  restorablePoints,
} from './inventory';
import { planRemoteRetention, type RemoteRetentionSettings } from './remote';
import { earlyDeletions } from './storage-duration';

const PREFIX = 'host1';
const SUBVOLUME = 'data';
const H = (c: string) => c.repeat(64);

interface BackupSpec {
  readonly kind: BackupKind;
  /** Compact timestamp, e.g. 20260101T020000Z. */
  readonly at: string;
  readonly parent?: string | null;
  readonly chunks?: number;
  readonly chunkSize?: number;
  readonly storageClass?: string;
  /** When the objects were written (default: the backup's time). */
  readonly lastModified?: Date;
  /** `absent`: chunks only (a failed run); `broken`: a manifest that does not parse. */
  readonly manifest?: 'ok' | 'broken' | 'absent';
}

const isoOf = (at: string) =>
  `${at.slice(0, 4)}-${at.slice(4, 6)}-${at.slice(6, 8)}T${at.slice(9, 11)}:${at.slice(11, 13)}:${at.slice(13, 15)}.000Z`;

class TestBucket {
  readonly objects: RemoteObject[] = [];
  readonly manifests = new Map<string, ManifestRead>();
  pointer: PointerRead = { state: 'absent' };

  /** Adds a backup's objects (chunks, then its manifest unless absent); returns its manifest key. */
  add(spec: BackupSpec): string {
    const dir = backupPrefix(PREFIX, SUBVOLUME, spec.kind, spec.at);
    const key = manifestKey(dir);
    const lastModified = spec.lastModified ?? new Date(isoOf(spec.at));
    const size = spec.chunkSize ?? 100;
    const storageClass = spec.storageClass ?? 'DEEP_ARCHIVE';
    const chunks = Array.from({ length: spec.chunks ?? 2 }, (_, index) => ({
      key: chunkKey(dir, index),
      size,
      sha256: H('a'),
      etag: '"e"',
      parts: [{ number: 1, size, sha256: H('a') }],
    }));
    for (const chunk of chunks) this.objects.push({ key: chunk.key, size, lastModified, storageClass });
    if (spec.manifest === 'absent') return key;
    this.objects.push({ key, size: 1000, lastModified, storageClass: 'STANDARD' });
    if (spec.manifest === 'broken') {
      this.manifests.set(key, { problem: `manifest ${key} is not valid JSON` });
      return key;
    }
    const document: ManifestV1 = {
      version: 1,
      subvolume: SUBVOLUME,
      kind: spec.kind,
      created_at: isoOf(spec.at),
      snapshot: {
        name: `${SUBVOLUME}__${spec.at}__${spec.kind}`,
        path: `/snap/${SUBVOLUME}__${spec.at}__${spec.kind}`,
        uuid: `u-${spec.at}`,
        parent_uuid: null,
      },
      parent_manifest: spec.parent ?? null,
      parent_snapshot_uuid: spec.parent == null ? null : 'u-parent',
      chunks,
      total_bytes: size * chunks.length,
      chunk_size: size,
      part_size: size,
      s3: { bucket: 'b', region: 'r', storage_class: 'DEEP_ARCHIVE' },
      restore: { stream_sha256: H('e'), chunk_hash_algo: 'sha256' },
      tool: { name: 'btrfs-to-s3', version: '0.1.0' },
    };
    this.manifests.set(key, { manifest: parseManifest(key, serializeManifest(document)) });
    return key;
  }

  /** Points current.json at `manifest`. */
  current(manifest: string, kind: BackupKind = 'inc'): void {
    this.objects.push({ key: pointerKey(PREFIX, SUBVOLUME), size: 200, lastModified: new Date(), storageClass: 'STANDARD' });
    this.pointer = { state: 'ok', pointer: { version: 1, manifest_key: manifest, kind, created_at: '2026-01-01T00:00:00.000Z' } };
  }

  inventory(): RemoteInventory {
    return buildInventory({
      prefix: PREFIX,
      subvolume: SUBVOLUME,
      objects: this.objects,
      manifests: this.manifests,
      pointer: this.pointer,
    });
  }
}

const NOW = new Date('2027-01-01T00:00:00Z');
const settings = (overrides: Partial<RemoteRetentionSettings> = {}): RemoteRetentionSettings => ({
  now: NOW,
  retainGenerations: 1,
  graceHours: 24,
  ...overrides,
});
const base = `${PREFIX}/subvol/${SUBVOLUME}`;

/** Three generations, as the prune test has them: full, inc, full, inc, full (current). */
function threeGenerations() {
  const bucket = new TestBucket();
  const f1 = bucket.add({ kind: 'full', at: '20260101T020000Z' });
  const i1 = bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: f1 });
  const f2 = bucket.add({ kind: 'full', at: '20260201T020000Z' });
  const i2 = bucket.add({ kind: 'inc', at: '20260208T020000Z', parent: f2 });
  const f3 = bucket.add({ kind: 'full', at: '20260301T020000Z' });
  bucket.current(f3, 'full');
  return { bucket, f1, i1, f2, i2, f3 };
}

describe('buildInventory', () => {
  it('groups each full with the incrementals chained to it, newest generation first, backups oldest first', () => {
    const { bucket, f1, i1, f2, i2, f3 } = threeGenerations();
    const inventory = bucket.inventory();
    expect(
      inventory.generations.map((generation) => [
        generation.root,
        generation.rootState,
        generation.current,
        generation.backups.map((backup) => backup.manifestKey),
      ]),
    ).toEqual([
      [dirOf(f3), 'full', true, [f3]],
      [dirOf(f2), 'full', false, [f2, i2]],
      [dirOf(f1), 'full', false, [f1, i1]],
    ]);
    expect(inventory.generations[1]?.createdAt).toEqual(new Date('2026-02-01T02:00:00Z'));
    expect(inventory.backups.map((backup) => [backup.kind, backup.state, backup.objects.length])).toEqual([
      ['full', 'complete', 3],
      ['inc', 'complete', 3],
      ['full', 'complete', 3],
      ['inc', 'complete', 3],
      ['full', 'complete', 3],
    ]);
    expect(inventory.reachable).toEqual([dirOf(f3)]);
    expect(inventory.chainBreak).toBeUndefined();
    expect(inventory.incomplete).toEqual([]);
    expect(inventory.strays).toEqual([]);
  });

  it('lists what current.json reaches, newest first, down to the full', () => {
    const bucket = new TestBucket();
    const full = bucket.add({ kind: 'full', at: '20260101T020000Z' });
    const inc1 = bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: full });
    const inc2 = bucket.add({ kind: 'inc', at: '20260115T020000Z', parent: inc1 });
    // A branch from a dead run: chained to the full, but not what current.json reaches.
    const branch = bucket.add({ kind: 'inc', at: '20260116T020000Z', parent: inc1 });
    bucket.current(inc2);
    const inventory = bucket.inventory();
    expect(inventory.reachable).toEqual([dirOf(inc2), dirOf(inc1), dirOf(full)]);
    expect(inventory.generations).toHaveLength(1);
    expect(inventory.generations[0]?.backups.map((backup) => backup.manifestKey)).toEqual([full, inc1, inc2, branch]);
  });

  it('sets a directory with chunks but no manifest apart as a failed run, with the time of its newest object', () => {
    const bucket = new TestBucket();
    const full = bucket.add({ kind: 'full', at: '20260101T020000Z' });
    bucket.current(full, 'full');
    bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: full, manifest: 'absent', lastModified: new Date('2026-01-08T03:00:00Z') });
    const inventory = bucket.inventory();
    expect(
      inventory.incomplete.map((backup) => [backup.dir, backup.state, backup.objects.length, backup.newestObjectAt.toISOString()]),
    ).toEqual([[`${base}/inc/20260108T020000Z`, 'incomplete', 2, '2026-01-08T03:00:00.000Z']]);
    expect(inventory.generations.map((generation) => generation.root)).toEqual([dirOf(full)]);
  });

  it('keeps a directory without manifest in the chain when a manifest names it as parent, as the root where the chain breaks', () => {
    const bucket = new TestBucket();
    const lost = bucket.add({ kind: 'full', at: '20260101T020000Z', manifest: 'absent' });
    const inc = bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: lost });
    const inventory = bucket.inventory();
    expect(inventory.incomplete).toEqual([]);
    expect(
      inventory.generations.map((generation) => [
        generation.root,
        generation.rootState,
        generation.backups.map((backup) => backup.manifestKey),
      ]),
    ).toEqual([[dirOf(lost), 'incomplete', [lost, inc]]]);
  });

  it('roots a chain at a manifest that cannot be used, dated by its directory', () => {
    const bucket = new TestBucket();
    const broken = bucket.add({ kind: 'full', at: '20260101T020000Z', manifest: 'broken' });
    const inc = bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: broken });
    const [generation] = bucket.inventory().generations;
    expect(generation).toMatchObject({ root: dirOf(broken), rootState: 'broken', createdAt: new Date('2026-01-01T02:00:00Z') });
    expect(generation?.backups.map((backup) => [backup.state, backup.problem])).toEqual([
      ['broken', `manifest ${broken} is not valid JSON`],
      ['complete', undefined],
    ]);
    expect(generation?.backups[1]?.manifestKey).toBe(inc);
  });

  it('roots a chain whose parent is not in the bucket at the missing directory, dated by its name', () => {
    const bucket = new TestBucket();
    const gone = manifestKey(backupPrefix(PREFIX, SUBVOLUME, 'full', '20251201T020000Z'));
    const inc = bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: gone });
    bucket.current(inc);
    const inventory = bucket.inventory();
    expect(inventory.generations.map((generation) => [generation.root, generation.rootState, generation.createdAt.toISOString()])).toEqual([
      [dirOf(gone), 'missing', '2025-12-01T02:00:00.000Z'],
    ]);
    expect(inventory.chainBreak).toBe(`manifest ${gone} does not exist`);
    expect(inventory.reachable).toEqual([dirOf(inc), dirOf(gone)]);
  });

  it('dates a missing root without a timestamp in its name by its oldest member', () => {
    const bucket = new TestBucket();
    const inc = bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: 'elsewhere/manifest.json' });
    expect(bucket.inventory().generations[0]).toMatchObject({
      root: 'elsewhere',
      rootState: 'missing',
      createdAt: new Date('2026-01-08T02:00:00Z'),
    });
    expect(bucket.inventory().generations[0]?.backups[0]?.manifestKey).toBe(inc);
  });

  it('treats a loop of parents and an incremental without a parent as broken chains', () => {
    const bucket = new TestBucket();
    const a = manifestKey(backupPrefix(PREFIX, SUBVOLUME, 'inc', '20260101T020000Z'));
    const b = bucket.add({ kind: 'inc', at: '20260102T020000Z', parent: a });
    bucket.add({ kind: 'inc', at: '20260101T020000Z', parent: b });
    const orphan = bucket.add({ kind: 'inc', at: '20260201T020000Z', parent: null });
    bucket.current(b);
    const inventory = bucket.inventory();
    expect(inventory.generations.map((generation) => generation.rootState)).toEqual(['broken', 'broken']);
    expect(inventory.generations.map((generation) => generation.root)).toEqual([dirOf(orphan), dirOf(a)]);
    expect(inventory.generations[1]?.backups).toHaveLength(2);
    expect(inventory.chainBreak).toBe(`manifest ${b} is its own ancestor`);

    bucket.current(orphan);
    expect(bucket.inventory().chainBreak).toBe(`manifest ${orphan} is an incremental without a parent`);
  });

  it('says why the chain from current.json breaks: an unreadable pointer, a broken or missing manifest', () => {
    const bucket = new TestBucket();
    const broken = bucket.add({ kind: 'full', at: '20260101T020000Z', manifest: 'broken' });
    bucket.current(broken, 'full');
    expect(bucket.inventory().chainBreak).toBe(`manifest ${broken} is not valid JSON`);

    const failed = bucket.add({ kind: 'full', at: '20260201T020000Z', manifest: 'absent' });
    bucket.current(failed, 'full');
    const inventory = bucket.inventory();
    expect(inventory.chainBreak).toBe(`manifest ${failed} does not exist`);
    // Reachable, so not a failed run to clean up.
    expect(inventory.incomplete).toEqual([]);

    bucket.pointer = { state: 'unreadable', problem: 'pointer host1/subvol/data/current.json is not valid JSON' };
    expect(bucket.inventory()).toMatchObject({ reachable: [], chainBreak: 'pointer host1/subvol/data/current.json is not valid JSON' });
  });

  it('counts a listed manifest that was not read as unusable', () => {
    const bucket = new TestBucket();
    const full = bucket.add({ kind: 'full', at: '20260101T020000Z' });
    bucket.manifests.delete(full);
    expect(bucket.inventory().backups[0]).toMatchObject({ state: 'broken', problem: `manifest ${full} was not read` });
  });

  it('keeps objects outside the layout apart, and dates a directory without a timestamp by its newest object', () => {
    const bucket = new TestBucket();
    const written = new Date('2026-05-05T05:05:05Z');
    bucket.objects.push({ key: `${base}/notes.txt`, size: 5, lastModified: written, storageClass: 'STANDARD' });
    bucket.objects.push({ key: `${base}/full/manual-copy/chunks/x.bin`, size: 5, lastModified: written, storageClass: 'STANDARD' });
    bucket.objects.push({ key: 'other/prefix/thing', size: 5, lastModified: written, storageClass: 'STANDARD' });
    const inventory = bucket.inventory();
    expect(inventory.strays.map((object) => object.key)).toEqual([`${base}/notes.txt`, 'other/prefix/thing']);
    expect(inventory.incomplete.map((backup) => [backup.dir, backup.createdAt.toISOString()])).toEqual([
      [`${base}/full/manual-copy`, written.toISOString()],
    ]);
  });
});

describe('planRemoteRetention', () => {
  it('keeps the newest generation and the one current.json reaches, deleting older generations whole, manifests first', () => {
    const { bucket, f1, i1, f2, i2, f3 } = threeGenerations();
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([[dirOf(f3), 'current']]);
    expect(plan.delete.map((item) => [item.dir, item.reason, item.dirs])).toEqual([
      [dirOf(f2), 'old-generation', [dirOf(f2), dirOf(i2)]],
      [dirOf(f1), 'old-generation', [dirOf(f1), dirOf(i1)]],
    ]);
    const chunks = [f1, f2, i1, i2].flatMap((key) => [chunkKey(dirOf(key), 0), chunkKey(dirOf(key), 1)]);
    expect(plan.keys).toEqual([f1, f2, i1, i2, ...chunks]);
    expect(plan.keys).not.toContain(pointerKey(PREFIX, SUBVOLUME));
    expect(plan.delete[0]?.detail).toBe('older than the newest 1 generation(s) (s3.retain_generations), not reachable from current.json');
    expect(plan.warnings).toEqual([]);
  });

  it('keeps retain_generations generations', () => {
    const { bucket, f1, f2, f3 } = threeGenerations();
    const plan = planRemoteRetention(bucket.inventory(), settings({ retainGenerations: 2 }));
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([
      [dirOf(f3), 'current'],
      [dirOf(f2), 'retained'],
    ]);
    expect(plan.delete.map((item) => item.dir)).toEqual([dirOf(f1)]);
    expect(planRemoteRetention(bucket.inventory(), settings({ retainGenerations: 3 })).delete).toEqual([]);
  });

  it('keeps the generation current.json reaches even when newer ones fill retain_generations', () => {
    const { bucket, f1, f2, i2, f3 } = threeGenerations();
    bucket.current(i2);
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([
      [dirOf(f3), 'retained'],
      [dirOf(f2), 'current'],
    ]);
    expect(plan.delete.map((item) => item.dir)).toEqual([dirOf(f1)]);
  });

  it('deletes no generation while the chain from current.json does not reach a full', () => {
    const { bucket, f1, f2, f3 } = threeGenerations();
    bucket.pointer = { state: 'unreadable', problem: 'pointer p is not valid JSON' };
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.delete).toEqual([]);
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([
      [dirOf(f3), 'current-chain-broken'],
      [dirOf(f2), 'current-chain-broken'],
      [dirOf(f1), 'current-chain-broken'],
    ]);
    expect(plan.warnings).toEqual([
      'the chain from current.json does not reach a full: pointer p is not valid JSON; no generation is deleted',
    ]);
  });

  it('deletes a failed run only once its newest object is older than the grace period', () => {
    const bucket = new TestBucket();
    const full = bucket.add({ kind: 'full', at: '20261231T000000Z' });
    bucket.current(full, 'full');
    const failedAt = new Date(NOW.getTime() - 2 * 3_600_000);
    bucket.add({ kind: 'inc', at: '20261231T220000Z', parent: full, manifest: 'absent', lastModified: failedAt });
    const dir = `${base}/inc/20261231T220000Z`;

    const young = planRemoteRetention(bucket.inventory(), settings({ graceHours: 3 }));
    expect(young.keep.map((item) => [item.what, item.dir, item.reason])).toEqual([
      ['generation', dirOf(full), 'current'],
      ['incomplete', dir, 'within-grace'],
    ]);
    expect(young.keep[1]?.detail).toBe(
      'no manifest (a failed or killed run); its newest object is 2.0 h old, within the 3 h grace period (s3.prune_grace_hours)',
    );
    expect(young.keys).toEqual([]);

    const old = planRemoteRetention(bucket.inventory(), settings({ graceHours: 1.5 }));
    expect(old.delete.map((item) => [item.what, item.dir, item.reason, item.detail])).toEqual([
      [
        'incomplete',
        dir,
        'failed-run',
        'no manifest (a failed or killed run); its newest object is 2.0 h old, past the 1.5 h grace period (s3.prune_grace_hours)',
      ],
    ]);
    expect(old.keys).toEqual([chunkKey(dir, 0), chunkKey(dir, 1)]);
  });

  it('keeps a failed run past the grace period while a live resume record names it, and only that one', () => {
    const bucket = new TestBucket();
    const full = bucket.add({ kind: 'full', at: '20261231T000000Z' });
    bucket.current(full, 'full');
    const failedAt = new Date(NOW.getTime() - 2 * 3_600_000);
    bucket.add({ kind: 'inc', at: '20261231T210000Z', parent: full, manifest: 'absent', lastModified: failedAt });
    bucket.add({ kind: 'inc', at: '20261231T220000Z', parent: full, manifest: 'absent', lastModified: failedAt });
    const resumable = `${base}/inc/20261231T220000Z`;
    const plan = planRemoteRetention(bucket.inventory(), settings({ graceHours: 1, resumableRuns: new Set([resumable]) }));
    expect(plan.keep.filter((item) => item.what === 'incomplete').map((item) => [item.dir, item.reason])).toEqual([
      [resumable, 'resumable'],
    ]);
    expect(plan.delete.map((item) => [item.dir, item.reason])).toEqual([[`${base}/inc/20261231T210000Z`, 'failed-run']]);
  });

  it('deletes a generation without a readable full by age: kept while not older than the oldest retained one', () => {
    const bucket = new TestBucket();
    const oldBroken = bucket.add({ kind: 'full', at: '20260101T020000Z', manifest: 'broken' });
    bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: oldBroken });
    const full = bucket.add({ kind: 'full', at: '20260201T020000Z' });
    const newBroken = bucket.add({ kind: 'full', at: '20260301T020000Z', manifest: 'broken' });
    bucket.current(full, 'full');
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([
      [dirOf(newBroken), 'newer-than-retained'],
      [dirOf(full), 'current'],
    ]);
    expect(plan.delete.map((item) => [item.dir, item.reason, item.detail])).toEqual([
      [
        dirOf(oldBroken),
        'old-generation',
        `its chain breaks at ${dirOf(oldBroken)} (broken) and it is older than the newest 1 generation(s) (s3.retain_generations), not reachable from current.json`,
      ],
    ]);
  });

  it('keeps chains without a readable full while fewer generations with one exist than retain_generations', () => {
    const bucket = new TestBucket();
    const broken = bucket.add({ kind: 'full', at: '20260101T020000Z', manifest: 'broken' });
    const full = bucket.add({ kind: 'full', at: '20260201T020000Z' });
    bucket.current(full, 'full');
    const plan = planRemoteRetention(bucket.inventory(), settings({ retainGenerations: 2 }));
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([
      [dirOf(full), 'current'],
      [dirOf(broken), 'newer-than-retained'],
    ]);
  });

  it('deletes old generations when there is no current.json at all', () => {
    const bucket = new TestBucket();
    const f1 = bucket.add({ kind: 'full', at: '20260101T020000Z' });
    const f2 = bucket.add({ kind: 'full', at: '20260201T020000Z' });
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.keep.map((item) => [item.dir, item.reason])).toEqual([[dirOf(f2), 'retained']]);
    expect(plan.delete.map((item) => item.dir)).toEqual([dirOf(f1)]);
  });

  it('reports objects deleted inside their class minimum storage duration, per class', () => {
    const bucket = new TestBucket();
    const day = 86_400_000;
    const f1 = bucket.add({
      kind: 'full',
      at: '20260101T020000Z',
      lastModified: new Date(NOW.getTime() - 100 * day),
      chunks: 3,
      chunkSize: 10,
    });
    bucket.add({
      kind: 'inc',
      at: '20260102T020000Z',
      parent: f1,
      storageClass: 'GLACIER',
      lastModified: new Date(NOW.getTime() - 95 * day),
    });
    bucket.add({ kind: 'full', at: '20260201T020000Z' });
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.earlyDeletions).toEqual([{ storageClass: 'DEEP_ARCHIVE', minimumDays: 180, objects: 3, bytes: 30 }]);
  });

  it('warns about objects outside the layout and leaves them alone', () => {
    const bucket = new TestBucket();
    bucket.objects.push({ key: `${base}/README`, size: 1, lastModified: new Date(0), storageClass: 'STANDARD' });
    const plan = planRemoteRetention(bucket.inventory(), settings());
    expect(plan.keys).toEqual([]);
    expect(plan.warnings).toEqual([`1 object(s) outside the backup layout are left alone (e.g. ${base}/README)`]);
  });

  it('refuses settings that would delete everything or nothing by mistake', () => {
    const inventory = new TestBucket().inventory();
    expect(() => planRemoteRetention(inventory, settings({ retainGenerations: 0 }))).toThrow(
      'retainGenerations must be a positive integer, got 0',
    );
    expect(() => planRemoteRetention(inventory, settings({ graceHours: 0 }))).toThrow('graceHours must be greater than 0, got 0');
  });
});

describe('earlyDeletions', () => {
  const object = (storageClass: string, ageDays: number, size = 1): RemoteObject => ({
    key: `k-${storageClass}-${ageDays}`,
    size,
    storageClass,
    lastModified: new Date(NOW.getTime() - ageDays * 86_400_000),
  });

  it('counts objects younger than their class minimum: 180 days for DEEP_ARCHIVE, 90 for GLACIER and GLACIER_IR, 30 for the IA classes', () => {
    const objects = [
      object('DEEP_ARCHIVE', 179, 10),
      object('DEEP_ARCHIVE', 180, 10),
      object('GLACIER', 89),
      object('GLACIER', 90),
      object('GLACIER_IR', 1),
      object('STANDARD_IA', 29),
      object('ONEZONE_IA', 30),
      object('STANDARD', 0),
      object('INTELLIGENT_TIERING', 0),
    ];
    expect(earlyDeletions(objects, NOW)).toEqual([
      { storageClass: 'DEEP_ARCHIVE', minimumDays: 180, objects: 1, bytes: 10 },
      { storageClass: 'GLACIER', minimumDays: 90, objects: 1, bytes: 1 },
      { storageClass: 'GLACIER_IR', minimumDays: 90, objects: 1, bytes: 1 },
      { storageClass: 'STANDARD_IA', minimumDays: 30, objects: 1, bytes: 1 },
    ]);
  });
});

describe('restorablePoints', () => {
  it('lists every complete backup whose chain reaches a full, oldest first, across generations', () => {
    const { bucket, f1, i1, f2, i2, f3 } = threeGenerations();
    expect(restorablePoints(bucket.inventory()).map((backup) => backup.manifestKey)).toEqual([f1, i1, f2, i2, f3]);
  });

  it('leaves out a failed run, a broken manifest and everything chained to a full that is gone', () => {
    const bucket = new TestBucket();
    const full = bucket.add({ kind: 'full', at: '20260101T020000Z' });
    bucket.add({ kind: 'inc', at: '20260108T020000Z', parent: full, manifest: 'absent' });
    bucket.add({ kind: 'inc', at: '20260109T020000Z', parent: full, manifest: 'broken' });
    const lost = bucket.add({ kind: 'full', at: '20260201T020000Z', manifest: 'absent' });
    bucket.add({ kind: 'inc', at: '20260208T020000Z', parent: lost });
    expect(restorablePoints(bucket.inventory()).map((backup) => backup.manifestKey)).toEqual([full]);
  });
});
