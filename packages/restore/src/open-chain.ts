import { AgeError, type Identities, openText, readIdentityFile } from '@org/btrfs-s3-codec';
import { type ChainLink, FormatError, type ManifestPrivate, ManifestPrivateSchema } from '@org/btrfs-s3-core';
import * as v from 'valibot';
import { RestoreInputError } from './errors';

/** A backup of the chain with its private section open: the snapshot's path and the plaintext hashes a decoder checks. */
export interface OpenedLink extends ChainLink {
  readonly secret: ManifestPrivate;
  /** The identities that opened it, when its chunks are encrypted. */
  readonly identities?: Identities;
}

/**
 * Opens every backup's private section, before any thaw request or download: in the
 * clear for unencrypted backups; with the identity file otherwise. A chain with an
 * encrypted backup and no identity file, or one whose identities open none of its
 * recipients, is refused (exit 2) naming the backup, its recipients and the file.
 */
export async function openChain(chain: readonly ChainLink[], identityFile: string | undefined): Promise<OpenedLink[]> {
  const sealed = chain.find((link) => 'age' in link.manifest.private);
  let identities: Identities | undefined;
  if (sealed !== undefined) {
    const recipients = sealed.manifest.encoding.recipients.join(', ');
    if (identityFile === undefined)
      throw new RestoreInputError(
        `${sealed.key} is encrypted (age, to ${recipients}): give the identity file that holds one of their private keys with --identity-file or encryption.identity_file`,
      );
    try {
      identities = await readIdentityFile(identityFile);
    } catch (error) {
      throw new RestoreInputError(`--identity-file: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const opened: OpenedLink[] = [];
  for (const link of chain) {
    const { private: section, encoding } = link.manifest;
    if ('clear' in section) {
      opened.push({ ...link, secret: section.clear });
      continue;
    }
    if (identities === undefined) throw new Error('unreachable: a sealed backup without identities');
    opened.push({ ...link, secret: await openSecret(link, section.age, identities, encoding.recipients), identities });
  }
  return opened;
}

async function openSecret(
  link: ChainLink,
  sealed: string,
  identities: Identities,
  recipients: readonly string[],
): Promise<ManifestPrivate> {
  let text: string;
  try {
    text = await openText(sealed, identities);
  } catch (error) {
    if (!(error instanceof AgeError)) throw error;
    throw new RestoreInputError(
      `${link.key} is encrypted to ${recipients.join(', ')}; no identity in ${identities.source} (${identities.recipients.join(', ')}) opens it: ${error.message}`,
    );
  }
  // Sealed by whoever holds a recipient (a public key): as untrusted as the rest of the bucket.
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    document = undefined;
  }
  const result = v.safeParse(ManifestPrivateSchema, document);
  if (!result.success || result.output.chunk_sha256.length !== link.manifest.chunks.length)
    throw new FormatError(`manifest ${link.key} is malformed: its private section does not hold one plaintext hash per chunk`);
  return result.output;
}
