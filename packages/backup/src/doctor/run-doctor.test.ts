import { CreateMultipartUploadCommand, DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { generateKey, identityFileText } from '@org/btrfs-s3-codec';
import { s3Error } from '@org/btrfs-s3-store/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupHost } from '../__fakes__/harness';
import { type DoctorReport, DoctorFailedError, runDoctor } from '../index';

/** The report runDoctor resolved with, or the one its DoctorFailedError carries. */
async function doctor(host: BackupHost, userId = 0): Promise<{ report: DoctorReport; failed: boolean }> {
  try {
    return { report: await runDoctor({ config: host.config, deps: { ...host.deps(), userId } }), failed: false };
  } catch (error) {
    if (!(error instanceof DoctorFailedError)) throw error;
    return { report: error.report, failed: true };
  }
}

const statusOf = (report: DoctorReport, check: string) =>
  report.checks.filter((entry) => entry.check === check).map((entry) => entry.status);
const detailOf = (report: DoctorReport, check: string) =>
  report.checks
    .filter((entry) => entry.check === check)
    .map((entry) => entry.detail)
    .join(' | ');

describe('runDoctor', () => {
  let host: BackupHost;
  afterEach(() => host.cleanup());

  it('passes on a ready host and store, and deletes its probes', async () => {
    host = new BackupHost({ subvolumes: ['data', 'home'] });
    const { report, failed } = await doctor(host);
    expect(failed).toBe(false);
    expect(report.ok).toBe(true);
    expect(statusOf(report, 'subvolume')).toEqual(['ok', 'ok']);
    expect(statusOf(report, 'manifest-write')).toEqual(['ok']);
    expect(statusOf(report, 'chunk-write')).toEqual(['ok']);
    expect(statusOf(report, 'delete')).toEqual(['ok']);
    expect(host.bucket.of(CreateMultipartUploadCommand)).toHaveLength(1);
    // Written under <prefix>/doctor/, and gone afterwards; nothing under subvol/.
    expect(host.bucket.of(PutObjectCommand).map((command) => command.input.Key)).toEqual([
      expect.stringMatching(/^host1\/doctor\/host-a-/),
    ]);
    expect(host.keys()).toEqual([]);
  });

  it('warns when backups would be unencrypted, fails on an unusable recipient, and checks a local identity file opens them', async () => {
    host = new BackupHost();
    expect(statusOf((await doctor(host)).report, 'encryption')).toEqual(['warn']);
    host.cleanup();

    host = new BackupHost({ encryption: `recipients = ["age1${'q'.repeat(58)}"]` });
    const typo = await doctor(host);
    expect(typo.failed).toBe(true);
    expect(detailOf(typo.report, 'encryption')).toMatch(/^encryption\.recipients: age1q+ is not a usable age recipient/);
    host.cleanup();

    const [mine, other] = [await generateKey(), await generateKey()];
    const dir = mkdtempSync(join(tmpdir(), 'doctor-key-'));
    try {
      const keyFile = join(dir, 'key.txt');
      writeFileSync(keyFile, identityFileText(mine, new Date()));
      host = new BackupHost({ encryption: `recipients = ["${mine.recipient}"]\nidentity_file = "${keyFile}"` });
      expect(detailOf((await doctor(host)).report, 'encryption')).toBe(
        `chunks encrypted with age to 1 recipient(s), no compression; ${keyFile} opens them`,
      );
      host.cleanup();
      host = new BackupHost({ encryption: `recipients = ["${other.recipient}"]\nidentity_file = "${keyFile}"` });
      expect(statusOf((await doctor(host)).report, 'encryption')).toEqual(['warn']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when not root, and when a subvolume is missing, naming them', async () => {
    host = new BackupHost({ subvolumes: ['data'] });
    host.world.subvolumes.delete('/srv/data');
    const { report, failed } = await doctor(host, 1000);
    expect(failed).toBe(true);
    expect(statusOf(report, 'root')).toEqual(['fail']);
    expect(detailOf(report, 'subvolume')).toMatch(/\/srv\/data \(subvolumes\.paths\)/);
  });

  it('names the storage class the store refuses', async () => {
    host = new BackupHost();
    // The harness writes STANDARD chunks; here DEEP_ARCHIVE, on a store that refuses it.
    Object.assign(host.config.s3, { storage_class_chunks: 'DEEP_ARCHIVE' });
    host.bucket.multipart.hook = (command) => {
      if (command instanceof CreateMultipartUploadCommand && command.input.StorageClass === 'DEEP_ARCHIVE')
        throw s3Error('InvalidStorageClass', 400);
    };
    const { report, failed } = await doctor(host);
    expect(failed).toBe(true);
    expect(statusOf(report, 'chunk-write')).toEqual(['fail']);
    expect(detailOf(report, 'chunk-write')).toMatch(
      /refuses storage class DEEP_ARCHIVE \(s3\.storage_class_chunks\): a multipart chunk .* got InvalidStorageClass/,
    );
    expect(statusOf(report, 'manifest-write')).toEqual(['ok']);
    expect(host.keys()).toEqual([]); // the STANDARD probe that named the cause was deleted too
  });

  it.each([
    ['SSE-S3', '', 'AES256'],
    ['SSE-KMS', 'sse = "aws:kms"\nsse_kms_key_id = "alias/backups"', 'aws:kms'],
  ])('names SSE when the store refuses it (%s)', async (_case, s3, mode) => {
    host = new BackupHost({ s3 });
    const refuseSse = (input: { ServerSideEncryption?: string }) => {
      if (input.ServerSideEncryption !== undefined) throw s3Error('InvalidRequest', 400);
    };
    host.bucket.objectOps.hook = (command) => {
      if (command instanceof PutObjectCommand) refuseSse(command.input);
    };
    host.bucket.multipart.hook = (command) => {
      if (command instanceof CreateMultipartUploadCommand) refuseSse(command.input);
    };
    const { report } = await doctor(host);
    expect(statusOf(report, 'manifest-write')).toEqual(['fail']);
    expect(statusOf(report, 'chunk-write')).toEqual(['fail']);
    expect(detailOf(report, 'chunk-write')).toContain(`refuses server-side encryption (s3.sse = "${mode}"`);
    expect(detailOf(report, 'manifest-write')).toContain(`refuses server-side encryption (s3.sse = "${mode}"`);
  });

  it('warns when the credential may not delete, and names what is left', async () => {
    host = new BackupHost();
    host.bucket.objectOps.hook = (command) => {
      if (command instanceof DeleteObjectsCommand) throw s3Error('AccessDenied', 403);
    };
    const { report, failed } = await doctor(host);
    expect(failed).toBe(false);
    expect(statusOf(report, 'delete')).toEqual(['warn']);
    expect(detailOf(report, 'delete')).toMatch(/may not delete.*host1\/doctor\//);
  });

  it('reports versioning and Object Lock, and says a delete there only adds delete markers', async () => {
    host = new BackupHost();
    host.bucket.settings.versioning = 'Enabled';
    host.bucket.settings.objectLock = { mode: 'COMPLIANCE', days: 30 };
    const { report } = await doctor(host);
    expect(statusOf(report, 'versioning')).toEqual(['warn']);
    expect(detailOf(report, 'object-lock')).toMatch(/enabled, default COMPLIANCE retention of 30 days/);
    expect(detailOf(report, 'delete')).toMatch(/got delete markers: .* versions stay stored, locked until the default retention ends/);
  });

  it('names a store that refuses conditional writes, which publishing needs', async () => {
    host = new BackupHost({ s3: 'sse = "none"' });
    host.bucket.objectOps.hook = (command) => {
      if (command instanceof PutObjectCommand && command.input.IfNoneMatch !== undefined) throw s3Error('InvalidRequest', 400);
    };
    const { report, failed } = await doctor(host);
    expect(failed).toBe(true);
    expect(detailOf(report, 'manifest-write')).toMatch(
      /refuses conditional writes \(If-None-Match: \*\).*without the condition was accepted/,
    );
    expect(host.keys()).toEqual([]);
  });

  it('says what every retry got when none of them gets through', async () => {
    host = new BackupHost();
    Object.assign(host.config.s3, { storage_class_chunks: 'DEEP_ARCHIVE' });
    host.bucket.multipart.hook = (command) => {
      if (command instanceof CreateMultipartUploadCommand) throw s3Error('InvalidArgument', 400);
    };
    const { report } = await doctor(host);
    expect(detailOf(report, 'chunk-write')).toMatch(
      /also refused with STANDARD: InvalidArgument \(HTTP 400\); without SSE: InvalidArgument/,
    );
  });

  it('sends no request with noS3 (--no-s3)', async () => {
    host = new BackupHost();
    const report = await runDoctor({ config: host.config, noS3: true, deps: { ...host.deps(), userId: 0 } });
    expect(report.checks.map((check) => check.check)).not.toContain('bucket-access');
    expect(host.bucket.commands).toEqual([]);
  });

  it('fails on a bucket it may not list, and writes nothing', async () => {
    host = new BackupHost();
    host.bucket.objectOps.hook = () => {
      throw s3Error('AccessDenied', 403);
    };
    const { report } = await doctor(host);
    expect(statusOf(report, 'bucket-access')).toEqual(['fail']);
    expect(detailOf(report, 'bucket-access')).toMatch(/s3:ListBucket/);
    expect(host.bucket.of(PutObjectCommand)).toHaveLength(0);
  });
});
