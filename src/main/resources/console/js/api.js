// The control-plane client: every call of the console goes through here, to the public API under /api/v1, with the
// management token the user signed in with. The token lives in sessionStorage only (never in a URL, a cookie or
// localStorage), so it is gone when the tab closes.

const TOKEN_KEY = 'flowgate.token';

export const session = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A problem+json answer (or a failure to reach flowgate), carrying the problem's code, message and details. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && typeof problem.message === 'string' && problem.message
      ? problem.message : `flowgate answered HTTP ${status}; try again.`);
    this.status = status;
    this.code = problem && problem.code;
    this.details = problem && Array.isArray(problem.details) ? problem.details : [];
  }

  /**
   * Messages by the field they name ("rate_limit.burst"): from details[].field, else the first quoted name in the
   * message for which isField(name) holds (e.g. 'set "flow_id"').
   */
  fieldMessages(isField = () => true) {
    const byField = new Map();
    for (const d of this.details) {
      if (d && typeof d.field === 'string' && !byField.has(d.field)) {
        byField.set(d.field, d.message || this.message);
      }
    }
    if (byField.size === 0) {
      for (const m of this.message.matchAll(/"([a-z_]+(?:\.[a-z_]+)*)"/g)) {
        if (isField(m[1])) {
          byField.set(m[1], this.message);
          break;
        }
      }
    }
    return byField;
  }
}

let sessionEnded = () => {};

/** Called with the error when a call made with the stored token is refused with 401 (token revoked or changed). */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/**
 * Calls the control plane: resolves to the envelope's data (or the raw JSON with {raw: true}); rejects with an
 * ApiError. {token} tries another token than the stored one (sign-in), without ending the session on 401.
 */
export async function api(method, path, body, options = {}) {
  const token = options.token ?? session.token();
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: 'flowgate did not answer; check that it is running and '
      + 'reachable from this browser, then try again.' });
  }
  if (response.status === 204) {
    return null;
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, json && typeof json === 'object' ? json : null);
    if (response.status === 401 && options.token === undefined) {
      sessionEnded(error);
    }
    throw error;
  }
  if (options.raw) {
    return json;
  }
  return json && json.status === 'success' ? json.data : json;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body, options);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** A list endpoint's items. */
export async function list(path) {
  const data = await get(path);
  return data && Array.isArray(data.items) ? data.items : [];
}
