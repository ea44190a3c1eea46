/** The LAN API with the page's token (SPEC section 8). Answers are parsed JSON; failures throw ApiError. */

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
  }
}

/**
 * @param {{ token: () => string | null, onUnauthorized: () => void }} options
 */
export function createApi({ token, onUnauthorized }) {
  async function request(method, path, body) {
    const headers = { authorization: `Bearer ${token() ?? ''}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (response.status === 401) onUnauthorized();
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  return {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    patch: (path, body) => request('PATCH', path, body),
  };
}

/** /health and /dashboard.json need no token. */
export async function getPublic(path) {
  const response = await fetch(path, { cache: 'no-store' });
  const data = await response.json().catch(() => null);
  if (data === null) throw new ApiError(response.status, null);
  return data;
}
