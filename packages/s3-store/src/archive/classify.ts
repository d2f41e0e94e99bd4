import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { parseRestoreHeader } from './restore-header';

/**
 * Whether an object can be read now:
 * - `readable`: not archived (STANDARD, GLACIER_IR, Intelligent-Tiering's access tiers, ...);
 * - `needs-restore`: archived, no thaw requested (or the restored copy expired);
 * - `restore-in-progress`: archived, S3 is thawing it;
 * - `restored`: archived, a thawed copy is readable.
 */
export type ArchiveState = 'readable' | 'needs-restore' | 'restore-in-progress' | 'restored';

export interface ArchiveClassification {
  readonly state: ArchiveState;
  /** As HeadObject reported it; STANDARD when it left the header out. */
  readonly storageClass: string;
  /** Intelligent-Tiering's archive tiers restore without `Days` (their copy does not expire). */
  readonly intelligentTiering: boolean;
  /** DEEP_ARCHIVE or Intelligent-Tiering's Deep Archive Access tier, where S3 offers no Expedited retrieval. */
  readonly deepArchive: boolean;
}

export type ArchiveHead = Pick<HeadObjectCommandOutput, 'StorageClass' | 'ArchiveStatus' | 'Restore'>;

/** The x-amz-restore header of an archived object was neither of the forms S3 documents. */
export class ThawHeaderError extends Error {
  override readonly name = 'ThawHeaderError';
}

/**
 * Classifies an object from its HeadObject answer. GLACIER and DEEP_ARCHIVE always
 * need a thaw; INTELLIGENT_TIERING only while HeadObject shows `ArchiveStatus`; every
 * other class (GLACIER_IR included) is readable as is. Throws ThawHeaderError when
 * an archived object's x-amz-restore header cannot be understood.
 */
export function classifyArchiveState(head: ArchiveHead): ArchiveClassification {
  const storageClass = head.StorageClass ?? 'STANDARD';
  const intelligentTiering = storageClass === 'INTELLIGENT_TIERING';
  const archived =
    storageClass === 'GLACIER' || storageClass === 'DEEP_ARCHIVE' || (intelligentTiering && head.ArchiveStatus !== undefined);
  const deepArchive = storageClass === 'DEEP_ARCHIVE' || head.ArchiveStatus === 'DEEP_ARCHIVE_ACCESS';
  const result = (state: ArchiveState): ArchiveClassification => ({ state, storageClass, intelligentTiering, deepArchive });
  if (!archived) return result('readable');
  const restore = parseRestoreHeader(head.Restore);
  switch (restore.state) {
    case 'absent':
      return result('needs-restore');
    case 'ongoing':
      return result('restore-in-progress');
    case 'restored':
      return result('restored');
    case 'malformed':
      throw new ThawHeaderError(`x-amz-restore header not understood (${restore.reason}): ${restore.value}`);
  }
}
