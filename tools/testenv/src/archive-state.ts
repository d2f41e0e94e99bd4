/** The retrieval tiers RestoreObject accepts in `GlacierJobParameters/Tier`. */
export type RestoreTier = 'Standard' | 'Bulk' | 'Expedited';

export const RESTORE_TIERS: readonly RestoreTier[] = ['Standard', 'Bulk', 'Expedited'];

/** What the proxy saw of RestoreObject for one key: every well-formed request counts, whatever its answer. */
export interface RestoreRequestRecord {
  readonly count: number;
  /** Tier and days of the latest request. */
  readonly tier: RestoreTier;
  readonly days: number;
}

/** How RestoreObject was answered, as S3 answers it. */
export type RestoreOutcome = 'accepted' | 'in-progress' | 'already-restored' | 'not-archived';

type RestoreStatus =
  { readonly phase: 'ongoing'; readonly headsSeen: number; readonly days: number } | { readonly phase: 'restored'; readonly expiry: Date };

interface ObjectEntry {
  readonly storageClass: string;
  readonly restore?: RestoreStatus;
}

const DAY_MS = 86_400_000;

/** S3 adds the days to the completion time and rounds up to the next midnight UTC. */
export function restoreExpiry(thawedAt: Date, days: number): Date {
  const end = new Date(thawedAt.getTime() + days * DAY_MS);
  const midnight = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
  return new Date(midnight === end.getTime() ? midnight : midnight + DAY_MS);
}

export interface ArchiveStateOptions {
  readonly archiveClasses: readonly string[];
  readonly thawAfterHeads: number | undefined;
  readonly now: () => Date;
}

/**
 * What S3's archive tier would know about each object key: its storage class and restore
 * status. Kept apart from the HTTP plumbing so the proxy only reports what it saw.
 */
export class ArchiveState {
  private readonly objects = new Map<string, ObjectEntry>();
  private readonly requests = new Map<string, RestoreRequestRecord>();
  private readonly archiveClasses: ReadonlySet<string>;

  constructor(private readonly options: ArchiveStateOptions) {
    this.archiveClasses = new Set(options.archiveClasses);
  }

  isArchiveClass(storageClass: string): boolean {
    return this.archiveClasses.has(storageClass);
  }

  classOf(key: string): string | undefined {
    return this.objects.get(key)?.storageClass;
  }

  /** The gateway reported the object's class (HEAD/GET); a changed class means a different object. */
  learn(key: string, storageClass: string): void {
    if (this.objects.get(key)?.storageClass !== storageClass) this.objects.set(key, { storageClass });
  }

  /** A new object was written at `key`: any restored copy belonged to the old one. */
  replaced(key: string, storageClass: string | undefined): void {
    if (storageClass === undefined) this.objects.delete(key);
    else this.objects.set(key, { storageClass });
  }

  forget(key: string): void {
    this.objects.delete(key);
  }

  /** True when a GET may reach the data: not archived, or a restored copy that has not expired. */
  readable(key: string): boolean {
    const entry = this.current(key);
    return entry === undefined || !this.isArchiveClass(entry.storageClass) || entry.restore?.phase === 'restored';
  }

  /**
   * The `x-amz-restore` value for a HeadObject answered now, if any. Counts the HEAD
   * against `thawAfterHeads`, so the n-th HEAD still reports the restore as ongoing.
   */
  headObject(key: string): string | undefined {
    const entry = this.current(key);
    const restore = entry?.restore;
    if (entry === undefined || restore === undefined) return undefined;
    if (restore.phase === 'restored') return `ongoing-request="false", expiry-date="${restore.expiry.toUTCString()}"`;
    const headsSeen = restore.headsSeen + 1;
    this.objects.set(key, { ...entry, restore: { ...restore, headsSeen } });
    if (this.options.thawAfterHeads !== undefined && headsSeen >= this.options.thawAfterHeads) this.thawKey(key);
    return 'ongoing-request="true"';
  }

  /** Counts a well-formed RestoreObject request for `key`, whatever its answer turns out to be. */
  recordRestoreRequest(key: string, request: { readonly tier: RestoreTier; readonly days: number }): void {
    const count = (this.requests.get(key)?.count ?? 0) + 1;
    this.requests.set(key, { count, tier: request.tier, days: request.days });
  }

  /** Moves the object's restore status as S3 does for a RestoreObject asking for `days`. */
  startRestore(key: string, days: number): RestoreOutcome {
    const entry = this.current(key);
    if (entry === undefined || !this.isArchiveClass(entry.storageClass)) return 'not-archived';
    if (entry.restore?.phase === 'ongoing') return 'in-progress';
    if (entry.restore?.phase === 'restored') {
      this.objects.set(key, { ...entry, restore: { phase: 'restored', expiry: restoreExpiry(this.options.now(), days) } });
      return 'already-restored';
    }
    this.objects.set(key, { ...entry, restore: { phase: 'ongoing', headsSeen: 0, days } });
    if (this.options.thawAfterHeads === 0) this.thawKey(key);
    return 'accepted';
  }

  restoreRequests(): Map<string, RestoreRequestRecord> {
    return new Map(this.requests);
  }

  /** Completes the ongoing restore of `key`; throws when there is none, which is a test's mistake. */
  thaw(key: string): void {
    if (this.current(key)?.restore?.phase !== 'ongoing')
      throw new Error(`archive proxy: no restore of ${JSON.stringify(key)} is in progress`);
    this.thawKey(key);
  }

  /** Completes every ongoing restore and returns their keys. */
  thawAll(): string[] {
    const ongoing = [...this.objects.keys()].filter((key) => this.current(key)?.restore?.phase === 'ongoing');
    for (const key of ongoing) this.thawKey(key);
    return ongoing;
  }

  private thawKey(key: string): void {
    const entry = this.objects.get(key);
    if (entry?.restore?.phase !== 'ongoing') return;
    this.objects.set(key, { ...entry, restore: { phase: 'restored', expiry: restoreExpiry(this.options.now(), entry.restore.days) } });
  }

  /** The entry with an expired restored copy dropped, as S3 deletes the copy at expiry. */
  private current(key: string): ObjectEntry | undefined {
    const entry = this.objects.get(key);
    if (entry?.restore?.phase === 'restored' && entry.restore.expiry.getTime() <= this.options.now().getTime()) {
      const archived = { storageClass: entry.storageClass };
      this.objects.set(key, archived);
      return archived;
    }
    return entry;
  }
}
