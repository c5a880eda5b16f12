// The one API client: fetch with the session cookie, problems (RFC 9457) turned into errors
// with `title`, `detail`, `status` and per-field `errors`, JSON in and out.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || '';
    this.detail = problem.detail || '';
    this.errors = problem.errors || [];
    this.retryAfter = null;
  }
  // The message for one field of a 422, if the host named it.
  field(name) {
    const found = this.errors.find((e) => e.field === name);
    return found ? found.message : null;
  }
}

// Called when a request answers 401: the app returns to the sign-in page.
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: 'The host is not answering.' });
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json().catch(() => ({})) : {};
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    error.retryAfter = Number(response.headers.get('retry-after')) || null;
    if (response.status === 401 && !path.startsWith('/auth/session')) onUnauthorized();
    throw error;
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

// Every item of a paginated list (`{items, next_cursor}`), up to `max`.
export async function all(path, max = 5000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
