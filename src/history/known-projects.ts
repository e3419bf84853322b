/**
 * The projects (backend, native id, full name) this store wrote to history_projects lately, so
 * a batch upserts only the ones it has not: at 50 webhooks/s nearly every batch names the same
 * few projects, and that statement was an eighth of a batch's SQL on PGlite. Entries lapse
 * after `ttlMs`, because another instance's retention pass may delete a project nothing refers
 * to: the first batch naming it after the lapse writes it again.
 */
export type ProjectColumns = [string[], string[], (string | null)[]];

export class KnownProjects {
  private readonly until = new Map<string, number>();

  constructor(private readonly ttlMs = 60_000, private readonly maxEntries = 10_000, private readonly now: () => number = Date.now) {}

  /** The rows of `projects` not written within the ttl; null when there are none. */
  unknown(projects: ProjectColumns | null): ProjectColumns | null {
    if (!projects) return null;
    const now = this.now();
    const left: ProjectColumns = [[], [], []];
    projects[0].forEach((backend, i) => {
      const expiry = this.until.get(key(backend, projects[1][i]!, projects[2][i] ?? null));
      if (expiry !== undefined && expiry > now) return;
      left[0].push(backend);
      left[1].push(projects[1][i]!);
      left[2].push(projects[2][i] ?? null);
    });
    return left[0].length ? left : null;
  }

  /** After the transaction that wrote them committed. */
  remember(projects: ProjectColumns | null): void {
    if (!projects) return;
    if (this.until.size + projects[0].length > this.maxEntries) this.until.clear();
    const expiry = this.now() + this.ttlMs;
    projects[0].forEach((backend, i) => this.until.set(key(backend, projects[1][i]!, projects[2][i] ?? null), expiry));
  }

  clear(): void {
    this.until.clear();
  }
}

const key = (backend: string, nativeId: string, fullName: string | null) => `${backend}\u0000${nativeId}\u0000${fullName ?? '\u0001'}`;
