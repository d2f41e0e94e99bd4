/**
 * Joins many small buffers (age's 64 KiB blocks with their 16-byte tags) into few
 * large ones before they travel on: every buffer costs a call, a hash update, a
 * pipe write or a zlib round trip downstream, which at 64 KiB apiece outweighs one copy.
 */
export class Coalescer {
  private pieces: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly minBytes: number) {}

  /** The joined buffers ready to go on: none until `minBytes` have gathered. */
  push(pieces: readonly Buffer[]): Buffer[] {
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      this.pieces.push(piece);
      this.bytes += piece.length;
    }
    return this.bytes >= this.minBytes ? this.flush() : [];
  }

  /** Whatever has gathered, joined. */
  flush(): Buffer[] {
    if (this.bytes === 0) return [];
    const joined = this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.bytes);
    this.pieces = [];
    this.bytes = 0;
    return [joined];
  }
}
