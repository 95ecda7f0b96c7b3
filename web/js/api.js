// The one way the client talks to the server: fetch wrapper for /api/..., session tokens, refresh, errors.
//
// Tokens (docs/security.md): the access token (15 minutes) lives in memory and in sessionStorage and is
// sent as `Authorization: Bearer …`, so no cookie can be ridden by another site (no CSRF on the API). The
// refresh token (30 days) is never visible to scripts: the server keeps it in an HttpOnly, Secure,
// SameSite=Strict cookie scoped to /api/auth, so a script injected into the page could not carry it away.
// localStorage only remembers *that* there is a session (no secret), so a new tab refreshes from the cookie.
//
// Right the moment you look (issue #16): every answer may carry a `Tally-Position` token (position.js), how
// far the services had got for this household. The newest one seen lives beside the access token (memory
// and sessionStorage, forgotten with the session) and goes with every request, so a service first catches
// up with what this person already wrote or saw elsewhere. One that cannot in time answers 503
// not-caught-up with Retry-After, having changed nothing: the same request is sent again (twice at most).

import { currentLanguage, formatLocale, t } from "./i18n.js";
import { formatPosition, mergePositions, parsePosition, sameTenant } from "./position.js";

const ACCESS_KEY = "tally.accessToken";
const SESSION_FLAG = "tally.session";
const POSITION_KEY = "tally.position";
export const POSITION_HEADER = "Tally-Position";
export const NOT_CAUGHT_UP = "https://tally.dev/problems/not-caught-up";
const CATCH_UP_RETRIES = 2; // sent again at most twice more after a not-caught-up answer
const RETRY_AFTER_MAX_S = 10; // a longer Retry-After is not waited for in full

let accessToken = sessionStorage.getItem(ACCESS_KEY);
let position = parsePosition(sessionStorage.getItem(POSITION_KEY));
let refreshing = null; // the one refresh in flight, shared by every request that got a 401
// Which session this is: a new one on signing in (or switching household), and on signing out or losing
// it; not on a refresh. An answer to a request sent in an earlier session speaks for that one only.
let session = 0;

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
  return Boolean(accessToken || localStorage.getItem(SESSION_FLAG));
}

/**
 * Who the current access token speaks for: { user, tenant } (its `sub` and `tid` claims), or null when
 * there is no token in this tab yet. Read without verifying: the server verifies; this only labels data
 * kept on this device (the offline queue) so it is never sent on behalf of someone else.
 */
export function sessionOwner() {
  if (!accessToken) return null;
  try {
    const payload = accessToken.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const claims = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), "=")));
    return claims.sub && claims.tid ? { user: String(claims.sub), tenant: String(claims.tid) } : null;
  } catch {
    return null;
  }
}

function storeTokens(pair, { refreshed = false } = {}) {
  if (!refreshed) session += 1;
  accessToken = pair.access_token;
  sessionStorage.setItem(ACCESS_KEY, pair.access_token);
  localStorage.setItem(SESSION_FLAG, "1");
  forgetPositionOfAnotherHousehold();
}

function forgetTokens() {
  session += 1;
  accessToken = null;
  sessionStorage.removeItem(ACCESS_KEY);
  localStorage.removeItem(SESSION_FLAG);
  forgetPosition();
}

// --- the position token (issue #16) -------------------------------------------------------------------------

/** The Tally-Position this tab holds, as the header's value (null when there is none yet). */
export function currentPosition() {
  return position ? formatPosition(position) : null;
}

function forgetPosition() {
  position = null;
  sessionStorage.removeItem(POSITION_KEY);
}

/** A token of another household than the session's (switched, or another person) is no use: drop it. */
function forgetPositionOfAnotherHousehold() {
  const tenant = sessionOwner()?.tenant;
  if (position && tenant && !sameTenant(position, { tenant })) forgetPosition();
}

/** Merges the token an answer carries (any answer, errors too) into the one this tab holds. */
function notePosition(response) {
  const received = parsePosition(response.headers?.get(POSITION_HEADER) ?? null);
  if (!received) return;
  position = mergePositions(position, received);
  sessionStorage.setItem(POSITION_KEY, formatPosition(position));
}

function sessionLost() {
  forgetTokens();
  window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT, { detail: { expired: true } }));
}

/**
 * api("/ledger/accounts") → parsed JSON (null for 204). Throws ApiError with a sentence a person can read.
 * Options: method, body (sent as JSON), auth (default true: send the access token, refresh once on 401),
 * signal (an AbortSignal: a request overtaken by a newer one is cancelled; it then rejects with the
 * signal's AbortError, not an ApiError).
 */
export async function api(path, { method = "GET", body = undefined, auth = true, signal = undefined } = {}) {
  requestsUnderWay(+1);
  const sentIn = session;
  const hadSession = isSignedIn();
  try {
    let response = await sendCaughtUp(path, method, body, auth, signal);
    // A 401 for a session that ended meanwhile (signed out, or in again), or sent with none, says nothing
    // of the current one: no refresh, and no "session ended" over a sign-in under way; the caller gets it.
    if (response.status === 401 && auth && hadSession && sentIn === session) {
      if (localStorage.getItem(SESSION_FLAG) && (await refreshTokens())) {
        response = await sendCaughtUp(path, method, body, auth, signal);
      }
      if (response.status === 401 && sentIn === session) sessionLost();
    }
    return await readResponse(response);
  } finally {
    requestsUnderWay(-1);
  }
}

let underWay = 0;

/**
 * Counts the calls of api() not answered yet; while there are any, <html> has `data-api-busy`: a screen
 * has settled when its outlet is no longer aria-busy (router.js) and no request is under way (the
 * browser tests wait for that instead of for some time).
 */
function requestsUnderWay(change) {
  underWay += change;
  globalThis.document?.documentElement?.toggleAttribute("data-api-busy", underWay > 0);
}

/** Sends, and sends again (at most CATCH_UP_RETRIES times) while the service has not caught up yet. */
async function sendCaughtUp(path, method, body, auth, signal) {
  let response = await send(path, method, body, auth, signal);
  for (let retry = 0; retry < CATCH_UP_RETRIES && (await isNotCaughtUp(response)); retry += 1) {
    await new Promise((resolve) => { setTimeout(resolve, retryAfterMs(response)); });
    response = await send(path, method, body, auth, signal);
  }
  return response;
}

async function isNotCaughtUp(response) {
  if (response.status !== 503) return false;
  const problem = await response.clone().json().catch(() => null);
  return problem?.type === NOT_CAUGHT_UP;
}

/** Retry-After in milliseconds: seconds or an HTTP date; 1 s when absent or unreadable, at most 10 s. */
export function retryAfterMs(response) {
  const value = (response.headers?.get("Retry-After") ?? "").trim();
  let seconds = 1;
  if (/^\d+$/.test(value)) seconds = Number(value);
  else if (value && !Number.isNaN(Date.parse(value))) seconds = Math.max(0, (Date.parse(value) - Date.now()) / 1000);
  return Math.min(seconds, RETRY_AFTER_MAX_S) * 1000;
}

async function send(path, method, body, auth, signal = undefined) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  forgetPositionOfAnotherHousehold();
  if (position) headers[POSITION_HEADER] = formatPosition(position);
  const sentIn = session;
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, t("api.unreachable"));
  }
  if (sentIn === session) notePosition(response); // not a token of a session ended meanwhile
  return response;
}

async function readResponse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") ?? "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok) return data;
  throw new ApiError(response.status, humanMessage(response.status, data), data);
}

/** Exchanges the refresh cookie for a new access token (and cookie); concurrent callers share one request. */
function refreshTokens() {
  refreshing ??= (async () => {
    try {
      const response = await send("/auth/refresh", "POST", {}, false);
      if (!response.ok) return false;
      storeTokens(await response.json(), { refreshed: true });
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// Readable sentences per status live in web/locales/*.json under "api.status" (e.g. "api.status.409").
const KNOWN_STATUSES = new Set([400, 401, 403, 404, 409, 413, 422, 429, 502, 503, 504]);

/** Turns RFC 9457 problem details into one readable sentence (or a few, for field errors). */
export function humanMessage(status, problem) {
  if (problem && Array.isArray(problem.errors) && problem.errors.length > 0) {
    return problem.errors.map(describeFieldError).join(" ");
  }
  if (status === 503 && problem?.type === NOT_CAUGHT_UP) return t("api.notCaughtUp");
  const detail = problem && typeof problem.detail === "string" ? problem.detail.trim() : "";
  if (detail && status < 500) return capitalise(detail.endsWith(".") ? detail : `${detail}.`);
  if (KNOWN_STATUSES.has(status)) return t(`api.status.${status}`);
  return t(status >= 500 ? "api.serverError" : "api.failed");
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

/**
 * Signs in with email and password. Resolves to null when signed in, or to a challenge token when the
 * account has two-factor sign-in: then finish with signInSecondStep(challenge, code).
 */
export async function signIn(email, password) {
  await signingOut;
  const result = await api("/auth/login", {
    method: "POST", body: { email, password, cookie: true }, auth: false,
  });
  if (result.two_factor_required) return result.challenge_token;
  storeTokens(result);
  return null;
}

export async function signInSecondStep(challengeToken, code) {
  storeTokens(await api("/auth/login/2fa", {
    method: "POST", body: { challenge_token: challengeToken, code, cookie: true }, auth: false,
  }));
}

export async function signUp({ email, password, displayName }) {
  await api("/auth/register", {
    method: "POST",
    // The language the page is shown in (with the browser's region): the first e-mail is written in it.
    body: { email, password, display_name: displayName, locale: formatLocale() ?? currentLanguage() },
    auth: false,
  });
  await signIn(email, password);
}

function signedOut() {
  forgetTokens();
  window.dispatchEvent(new CustomEvent(SIGNED_OUT_EVENT, { detail: { expired: false } }));
}

let signingOut = null; // the logout under way: a sign-in waits for it (its cookie must come after)

/**
 * Ends the session here at once (the sign-in screen shows straight away, and what answers requests still
 * under way, a 401 once the server ended it, is not taken for the next session), and on the server best
 * effort (the refresh cookie goes with the request); a sign-in started meanwhile waits for that.
 */
export async function signOut() {
  signingOut = api("/auth/logout", { method: "POST", body: {}, auth: false }).catch(() => {});
  signedOut();
  await signingOut;
}

/** Ends every session of this account, this one included. */
export async function signOutEverywhere() {
  await api("/auth/logout-all", { method: "POST" });
  signedOut();
}

/**
 * Moves this session to another household of the person's: the refresh cookie is spent for a new pair whose
 * access token names that household (the server checks the membership first).
 */
export async function switchHousehold(tenantId) {
  storeTokens(await api("/auth/switch", { method: "POST", body: { tenant_id: tenantId } }));
}

/** The session ended on the server (password reset, revoked): forget it here too. */
export function forgetSession() {
  forgetTokens();
}
