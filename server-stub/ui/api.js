// api.js - the admin API, called with the token of this browser tab.
//
// The token lives in sessionStorage (this tab only, gone when it closes),
// goes out in the Authorization header of each request and nowhere else:
// never in a URL, never in localStorage, never in a cookie.

const TOKEN_KEY = 'canary-server-token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field || '';
  }
}

// Called when the server refuses the token (set by app.js).
let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

// One call: `path` is an API path ("/v1/admin/rollouts"), `body` an object
// sent as JSON. Resolves to the parsed reply; rejects with an ApiError.
export async function call(method, path, body) {
  const t = token();
  if (!t) {
    onUnauthorized();
    throw new ApiError(401, 'not signed in');
  }
  const init = {
    method,
    headers: { Authorization: 'Bearer ' + t },
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'the server does not answer');
  }
  let doc = null;
  try {
    doc = await resp.json();
  } catch (e) {
    doc = null;
  }
  if (resp.status === 401) {
    forgetToken();
    onUnauthorized();
  }
  if (!resp.ok) {
    const message = doc && typeof doc.error === 'string' ? doc.error : resp.statusText;
    throw new ApiError(resp.status, message, doc && doc.field);
  }
  return doc;
}

export const get = (path) => call('GET', path);

// GET, resolving to null when there is no such thing (404).
export async function getIfAny(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}
export const post = (path, body) => call('POST', path, body);
export const patch = (path, body) => call('PATCH', path, body);

// A flag key as one path segment.
export const seg = (key) => encodeURIComponent(key);
