// The users table's rows, fetched a page at a time and kept while the query stays the same, so
// that 100,000 users scroll without holding them all. A new query starts a new generation; answers
// to an older one are dropped.

export const PAGE = 50;

export interface PageSource<Row> {
  fetch(offset: number, limit: number): Promise<{ total: number; rows: Row[] }>;
}

export class PagedRows<Row> {
  total = 0;
  private pages = new Map<number, Row[]>();
  private pending = new Set<number>();
  private generation = 0;

  constructor(
    private source: PageSource<Row>,
    private onchange: () => void,
  ) {}

  /** Forgets everything (the query changed) and loads the first page; resolves when it is in. */
  async reset(source?: PageSource<Row>): Promise<void> {
    if (source) this.source = source;
    this.generation++;
    this.pages.clear();
    this.pending.clear();
    await this.load(0);
  }

  /** The row at `index`, or undefined while its page is loading. */
  row(index: number): Row | undefined {
    return this.pages.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  /** Makes sure the pages holding rows `first`…`last` are loaded or on their way. */
  ensure(first: number, last: number) {
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) {
      if (p * PAGE < Math.max(this.total, 1) && !this.pages.has(p) && !this.pending.has(p)) void this.load(p);
    }
  }

  private async load(page: number): Promise<void> {
    const gen = this.generation;
    this.pending.add(page);
    try {
      const got = await this.source.fetch(page * PAGE, PAGE);
      if (gen !== this.generation) return;
      this.total = got.total;
      this.pages.set(page, got.rows);
      this.onchange();
    } finally {
      if (gen === this.generation) this.pending.delete(page);
    }
  }
}
