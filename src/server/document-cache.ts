/**
 * yoga's parse cache (document text → AST, or the parse error) with a
 * `clear()`: a reload of the operation limits empties it, since the token
 * limit runs in the parser and a cached document is never parsed again.
 * (Its validation cache is keyed by the AST, so new ASTs are validated anew.)
 * Least recently used entries go first beyond `max`, as in yoga's own.
 */
export class ClearableCache<T> {
  readonly #entries = new Map<string, T>();

  constructor(private readonly max = 1024) {}

  get(key: string): T | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  clear(): void {
    this.#entries.clear();
  }
}
