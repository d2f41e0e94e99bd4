import { type ArchiveHead, classifyArchiveState, ThawHeaderError } from './classify';

const ONGOING = 'ongoing-request="true"';
const RESTORED = 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"';

describe('classifyArchiveState', () => {
  it.each<[string, ArchiveHead, string]>([
    ['STANDARD (no storage-class header)', {}, 'readable'],
    ['STANDARD_IA', { StorageClass: 'STANDARD_IA' }, 'readable'],
    ['GLACIER_IR, which is read without a thaw', { StorageClass: 'GLACIER_IR' }, 'readable'],
    ['GLACIER without a restore', { StorageClass: 'GLACIER' }, 'needs-restore'],
    ['DEEP_ARCHIVE without a restore', { StorageClass: 'DEEP_ARCHIVE' }, 'needs-restore'],
    ['DEEP_ARCHIVE being restored', { StorageClass: 'DEEP_ARCHIVE', Restore: ONGOING }, 'restore-in-progress'],
    ['GLACIER restored', { StorageClass: 'GLACIER', Restore: RESTORED }, 'restored'],
    ['INTELLIGENT_TIERING in an access tier', { StorageClass: 'INTELLIGENT_TIERING' }, 'readable'],
    ['INTELLIGENT_TIERING in Archive Access', { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'ARCHIVE_ACCESS' }, 'needs-restore'],
    [
      'INTELLIGENT_TIERING in Deep Archive Access, thawing',
      { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'DEEP_ARCHIVE_ACCESS', Restore: ONGOING },
      'restore-in-progress',
    ],
    ['STANDARD with an odd restore header, which does not matter', { Restore: 'garbage' }, 'readable'],
  ])('classifies %s as %s', (_name, head, state) => {
    expect(classifyArchiveState(head).state).toBe(state);
  });

  it('marks the objects S3 has no Expedited retrieval for, and those restored without Days', () => {
    expect(classifyArchiveState({ StorageClass: 'DEEP_ARCHIVE' })).toMatchObject({ deepArchive: true, intelligentTiering: false });
    expect(classifyArchiveState({ StorageClass: 'GLACIER' })).toMatchObject({ deepArchive: false, intelligentTiering: false });
    expect(classifyArchiveState({ StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'DEEP_ARCHIVE_ACCESS' })).toMatchObject({
      deepArchive: true,
      intelligentTiering: true,
    });
    expect(classifyArchiveState({ StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'ARCHIVE_ACCESS' })).toMatchObject({
      deepArchive: false,
      intelligentTiering: true,
    });
  });

  it('refuses to guess about an archived object whose restore header it cannot read', () => {
    const classify = () => classifyArchiveState({ StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="soon"' });
    expect(classify).toThrow(ThawHeaderError);
    expect(classify).toThrow(
      'x-amz-restore header not understood (ongoing-request is "soon", not "true" or "false"): ongoing-request="soon"',
    );
  });
});
