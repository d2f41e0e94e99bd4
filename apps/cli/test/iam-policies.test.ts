import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';

const PolicySchema = v.object({
  Version: v.literal('2012-10-17'),
  Statement: v.array(v.object({ Effect: v.literal('Allow'), Action: v.union([v.string(), v.array(v.string())]), Resource: v.string() })),
});

/** Every action a policy file in docs/iam grants, with the resources it grants them on. */
function grants(name: string): Map<string, string[]> {
  const policy = v.parse(PolicySchema, JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'iam', name), 'utf8')));
  const actions = new Map<string, string[]>();
  for (const statement of policy.Statement) {
    for (const action of [statement.Action].flat()) actions.set(action, [...(actions.get(action) ?? []), statement.Resource]);
  }
  return actions;
}

describe('the IAM policies in docs/iam', () => {
  const onObjects = ['arn:aws:s3:::BUCKET/PREFIX/*'];

  it('backup-only.json lets a host back up, lock what it writes (Object Lock) and recover from dead runs, and never delete or thaw', () => {
    const actions = grants('backup-only.json');
    for (const action of [
      's3:PutObject',
      's3:GetObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
      's3:GetObjectRetention',
      's3:PutObjectRetention',
    ])
      expect(actions.get(action)).toEqual(onObjects);
    expect(actions.get('s3:ListBucket')).toEqual(['arn:aws:s3:::BUCKET']);
    expect(actions.get('s3:ListBucketMultipartUploads')).toEqual(['arn:aws:s3:::BUCKET']);
    // doctor reads what a delete does in this bucket
    for (const action of ['s3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration'])
      expect(actions.get(action)).toEqual(['arn:aws:s3:::BUCKET']);
    expect(actions.has('s3:DeleteObject')).toBe(false);
    expect(actions.has('s3:DeleteObjectVersion')).toBe(false);
    expect(actions.has('s3:RestoreObject')).toBe(false);
    // Never the bypass of governance-mode Object Lock: a stolen credential must not lift it.
    expect(actions.has('s3:BypassGovernanceRetention')).toBe(false);
  });

  it('prune.json adds deleting (versions too, in a versioned bucket) and reading through delete markers, under the prefix only', () => {
    const backup = grants('backup-only.json');
    const prune = grants('prune.json');
    expect([...prune.keys()].sort()).toEqual(
      [...backup.keys(), 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObjectVersion', 's3:ListBucketVersions'].sort(),
    );
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObjectVersion']) expect(prune.get(action)).toEqual(onObjects);
    expect(prune.get('s3:ListBucketVersions')).toEqual(['arn:aws:s3:::BUCKET']);
    expect(prune.has('s3:BypassGovernanceRetention')).toBe(false);
  });

  it('restore-only.json reads (through delete markers too), lists and thaws, and can neither write nor delete', () => {
    const actions = grants('restore-only.json');
    expect([...actions.keys()].sort()).toEqual([
      's3:GetBucketVersioning',
      's3:GetObject',
      's3:GetObjectVersion',
      's3:ListBucket',
      's3:ListBucketVersions',
      's3:RestoreObject',
    ]);
    expect(actions.get('s3:RestoreObject')).toEqual(onObjects);
    expect(actions.get('s3:GetObjectVersion')).toEqual(onObjects);
  });
});
