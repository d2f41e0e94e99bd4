/** An age file could not be written or read: no recipient, a foreign or damaged header, a payload that fails authentication. */
export class AgeError extends Error {
  override readonly name = 'AgeError';
}
