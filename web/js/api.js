// The one way the client talks to the server: fetch wrapper for /api/..., session tokens, refresh, errors.
//
// Tokens: the access token lives in memory and in sessionStorage, the refresh token in sessionStorage, so a
// reload keeps you signed in for this tab and closing the tab signs you out. Both are sent as headers
// (Authorization: Bearer …; refresh token in the JSON body). Issue 3 will revisit cookie vs header
// (an HttpOnly, SameSite=Strict refresh cookie would keep the refresh token away from scripts).

const ACCESS_KEY = "tally.accessToken";
const REFRESH_KEY = "tally.refreshToken";

let accessToken = sessionStorage.getItem(ACCESS_KEY);
let refreshing = null; // the one refresh in flight, shared by every request that got a 401

export const SIGNED_OUT_EVENT = "tally:signed-out";

export class ApiError extends Error {
  constructor(status, message, problem = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

export function isSignedIn() {
  return Boolean(accessToken || sessionStorage.getItem(REFRESH_KEY));
}

function storeTokens(pair) {
  accessToken = pair.access_token;
  sessionStorage.setItem(ACCESS_KEY, pair.access_token);
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
}

function forgetTokens() {
  accessToken = null;
  sessionStorage.removeItem(ACCESS_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
}

function sessionLost() {
  forgetTokens();
  window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT, { detail: { expired: true } }));
}

/**
 * api("/ledger/accounts") → parsed JSON (null for 204). Throws ApiError with a sentence a person can read.
 * Options: method, body (sent as JSON), auth (default true: send the access token, refresh once on 401).
 */
export async function api(path, { method = "GET", body = undefined, auth = true } = {}) {
  let response = await send(path, method, body, auth);
  if (response.status === 401 && auth) {
    if (sessionStorage.getItem(REFRESH_KEY) && (await refreshTokens())) {
      response = await send(path, method, body, auth);
    }
    if (response.status === 401) sessionLost();
  }
  return readResponse(response);
}

async function send(path, method, body, auth) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "Cannot reach Tally. Check your connection and try again.");
  }
}

async function readResponse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") ?? "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok) return data;
  throw new ApiError(response.status, humanMessage(response.status, data), data);
}

/** Exchanges the refresh token for a new pair; concurrent callers share one request. */
function refreshTokens() {
  refreshing ??= (async () => {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    try {
      const response = await send("/auth/refresh", "POST", { refresh_token: refreshToken }, false);
      if (!response.ok) return false;
      storeTokens(await response.json());
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

const STATUS_MESSAGES = {
  400: "The request was not understood.",
  401: "Please sign in again.",
  403: "You are not allowed to do that.",
  404: "That was not found. It may have been removed.",
  409: "Someone else changed this at the same time. Reload and try again.",
  413: "That is too large to send.",
  422: "Some fields are not valid.",
  429: "Too many attempts. Wait a moment and try again.",
  502: "Part of Tally is not answering right now. Try again in a moment.",
  503: "Tally is starting up or busy. Try again in a moment.",
  504: "Tally took too long to answer. Try again in a moment.",
};

/** Turns RFC 9457 problem details into one readable sentence (or a few, for field errors). */
export function humanMessage(status, problem) {
  if (problem && Array.isArray(problem.errors) && problem.errors.length > 0) {
    return problem.errors.map(describeFieldError).join(" ");
  }
  const detail = problem && typeof problem.detail === "string" ? problem.detail.trim() : "";
  if (detail && status < 500) return capitalise(detail.endsWith(".") ? detail : `${detail}.`);
  return STATUS_MESSAGES[status] ?? (status >= 500 ? "Something went wrong on our side. Try again later."
    : "That did not work.");
}

function describeFieldError(error) {
  const location = Array.isArray(error.loc) ? error.loc.filter((part) => part !== "body") : [];
  const name = location.length ? String(location[location.length - 1]).replaceAll("_", " ") : "";
  const message = String(error.msg ?? "is not valid").replace(/^Value error, /, "");
  return capitalise(name ? `${name}: ${message}.` : `${message}.`);
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// --- sessions -----------------------------------------------------------------------------------------------

export async function signIn(email, password) {
  storeTokens(await api("/auth/login", { method: "POST", body: { email, password }, auth: false }));
}

export async function signUp({ email, password, displayName }) {
  await api("/auth/register", {
    method: "POST",
    body: { email, password, display_name: displayName },
    auth: false,
  });
  await signIn(email, password);
}

export async function signOut() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  forgetTokens();
  if (refreshToken) {
    // Best effort: the session ends locally whatever the server says.
    await api("/auth/logout", { method: "POST", body: { refresh_token: refreshToken }, auth: false })
      .catch(() => {});
  }
  window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT, { detail: { expired: false } }));
}
