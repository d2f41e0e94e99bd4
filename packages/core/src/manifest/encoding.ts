import type { Manifest } from './schema';

/** Whether the chunks hold the send stream as it is: neither compressed nor encrypted (every version 1 manifest). */
export function isPlainStream(manifest: Manifest): boolean {
  return manifest.encoding.compression === 'none' && manifest.encoding.encryption === 'none';
}

/**
 * The SHA-256 of the chunks' stored bytes concatenated, when the manifest records it:
 * for a plain stream that is the send stream's. Encoded chunks have none (each is
 * checked by its parts and its own hash); their send stream is checked when decoded.
 */
export function storedStreamSha256(manifest: Manifest): string | undefined {
  return isPlainStream(manifest) && 'clear' in manifest.private ? manifest.private.clear.stream_sha256 : undefined;
}
