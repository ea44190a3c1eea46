/** A small client of the hub's LAN API for the CLI (status, devices, sessions, demo). */

export const API_TIMEOUT_MS = 5_000;
/** A runaway cursor (a hub bug) must not keep the CLI paging forever. */
const MAX_PAGES = 1_000;

/** The hub could not be reached, or answered something the command cannot use. */
export class HubApiError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export class HubClient {
  constructor(readonly baseUrl: string, private readonly token?: string) {}

  /** Any status comes back as it is; only a network failure or a non-JSON body throws. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const url = new URL(path, this.baseUrl).toString();
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new HubApiError(`cannot reach the hub at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await response.text();
    try {
      return { status: response.status, body: (text.length > 0 ? JSON.parse(text) : undefined) as T };
    } catch {
      throw new HubApiError(`${method} ${url} answered ${response.status} with a body that is not JSON`, response.status);
    }
  }

  /** GET that must answer 200; 401 and 404 get a message a person can act on. */
  async get<T = unknown>(path: string): Promise<T> {
    const answer = await this.request<T>('GET', path);
    if (answer.status === 200) return answer.body;
    throw this.failure('GET', path, answer);
  }

  /** Every item of a paged list (`{items, nextCursor}`), following the cursor. */
  async list<T = unknown>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries({ ...query, cursor: cursor ?? undefined })) if (value !== undefined) params.set(key, value);
      const qs = params.toString();
      const body = await this.get<{ items: T[]; nextCursor: string | null }>(qs ? `${path}?${qs}` : path);
      items.push(...body.items);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  failure(method: string, path: string, answer: ApiAnswer<unknown>): HubApiError {
    const detail = (answer.body as { message?: string } | undefined)?.message;
    if (answer.status === 401) {
      return new HubApiError(`the hub refused the API token (401): pass --token, set GYMHUB_API_TOKEN, or rotate it with gymhub token`, 401);
    }
    if (answer.status === 404) return new HubApiError(`${method} ${path}: this hub has no such route (404)${detail ? `: ${detail}` : ''}`, 404);
    return new HubApiError(`${method} ${path}: ${answer.status}${detail ? ` ${detail}` : ''}`, answer.status);
  }
}
