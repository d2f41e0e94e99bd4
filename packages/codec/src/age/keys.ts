import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { AgeError } from './errors';

/** A new X25519 identity as `age-keygen` writes it: the recipient is its public half. */
export interface GeneratedKey {
  readonly identity: string;
  readonly recipient: string;
}

export async function generateKey(): Promise<GeneratedKey> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The file `age-keygen` would write, readable by `age -d -i FILE`. */
export function identityFileText(key: GeneratedKey, createdAt: Date): string {
  return `# created: ${createdAt.toISOString()}\n# public key: ${key.recipient}\n${key.identity}\n`;
}

/**
 * Writes a new identity file, mode 0600. Never replaces a file: losing the key that
 * backups were encrypted to loses the backups (O_EXCL, so a racing writer fails too).
 */
export async function writeIdentityFile(path: string, text: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The identities an identity file holds (lines other than blanks and `#` comments), as `age -i` reads them. */
export function parseIdentities(text: string, source: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const foreign = lines.find((line) => !line.startsWith('AGE-SECRET-KEY-'));
  if (foreign !== undefined) throw new AgeError(`${source} holds a line that is not an age identity (AGE-SECRET-KEY-1...)`);
  if (lines.length === 0) throw new AgeError(`${source} holds no age identity`);
  return lines;
}

/** The identities of an identity file, ready to open age files with, and their public keys for messages. */
export interface Identities {
  readonly source: string;
  readonly recipients: readonly string[];
  readonly decrypter: Decrypter;
}

export async function identitiesFromText(text: string, source: string): Promise<Identities> {
  const lines = parseIdentities(text, source);
  const decrypter = new Decrypter();
  const recipients: string[] = [];
  for (const line of lines) {
    try {
      decrypter.addIdentity(line);
      recipients.push(await identityToRecipient(line));
    } catch (error) {
      throw new AgeError(`${source}: not a valid age identity (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return { source, recipients, decrypter };
}

export async function readIdentityFile(path: string): Promise<Identities> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AgeError(`cannot read the identity file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return identitiesFromText(text, path);
}

/**
 * The first recipient the age library cannot encrypt to (a typo passes a shape check
 * but fails bech32's checksum), with why; undefined when all are usable. Checked
 * before a backup does anything, so a bad key fails the run, not its first chunk.
 */
export function unusableRecipient(recipients: readonly string[]): { recipient: string; reason: string } | undefined {
  for (const recipient of recipients) {
    try {
      new Encrypter().addRecipient(recipient);
    } catch (error) {
      return { recipient, reason: error instanceof Error ? error.message : String(error) };
    }
  }
  return undefined;
}
