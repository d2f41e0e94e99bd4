/** Keeps only the last `limit` bytes written to it, so captured output has a memory bound. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Drop whole chunks while the rest still covers the limit, then trim the first one.
    while (this.chunks.length > 1 && this.length - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.length -= this.chunks.shift()?.length ?? 0;
    }
    if (this.length > this.limit) {
      const joined = Buffer.concat(this.chunks).subarray(this.length - this.limit);
      this.chunks = [joined];
      this.length = joined.length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
