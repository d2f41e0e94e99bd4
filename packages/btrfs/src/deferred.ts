/** A promise settled from outside, for results that streams' callbacks produce. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  // Replaced by the executor below, which runs synchronously in the constructor.
  resolve: (value: T | PromiseLike<T>) => void = () => undefined;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = resolve;
    });
  }
}
