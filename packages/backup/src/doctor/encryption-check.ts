import { identitiesFromText, unusableRecipient } from '@org/btrfs-s3-codec';
import type { Config } from '@org/btrfs-s3-core';
import { readFile } from 'node:fs/promises';
import { type DoctorCheck, fail, ok, warn } from './report';

/**
 * What the backups will be: encrypted to usable recipients, or readable by anyone who can
 * read the bucket; and, when the identity file is on this host, whether it opens them.
 */
export async function encryptionCheck(config: Pick<Config, 's3' | 'encryption'>): Promise<DoctorCheck> {
  const { recipients, identity_file: identityFile } = config.encryption;
  const compression = config.s3.compression === 'zstd' ? `zstd level ${config.s3.compression_level}` : 'no compression';
  if (recipients.length === 0)
    return warn(
      'encryption',
      `no [encryption] recipients: chunks are stored unencrypted (${compression}), readable by anyone who can read the bucket; \`btrfs-to-s3 key generate\` makes a key`,
    );
  const unusable = unusableRecipient(recipients);
  if (unusable !== undefined)
    return fail('encryption', `encryption.recipients: ${unusable.recipient} is not a usable age recipient: ${unusable.reason}`);
  const summary = `chunks encrypted with age to ${recipients.length} recipient(s), ${compression}`;
  if (identityFile === undefined) return ok('encryption', `${summary}; no identity_file here (restores need it)`);
  let text: string;
  try {
    text = await readFile(identityFile, 'utf8');
  } catch {
    return ok('encryption', `${summary}; encryption.identity_file ${identityFile} is not on this host (restores need it)`);
  }
  try {
    const identities = await identitiesFromText(text, identityFile);
    return identities.recipients.some((recipient) => recipients.includes(recipient))
      ? ok('encryption', `${summary}; ${identityFile} opens them`)
      : warn(
          'encryption',
          `${summary}; encryption.identity_file ${identityFile} opens none of encryption.recipients: new backups need another key to restore`,
        );
  } catch (error) {
    return fail('encryption', `encryption.identity_file: ${error instanceof Error ? error.message : String(error)}`);
  }
}
