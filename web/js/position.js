// The causal-consistency token, "Tally-Position" (issue #16: right the moment you look).
//
//   tenant=3f2a…;auth=12;ledger=345
//
// A household (tenant) id, then how far each service's events for that household had got when it answered.
// Every /api answer may carry one; the client keeps the newest it has seen (merged here) and sends it with
// every request, so a service that consumes another's events first catches up with what this person already
// saw or wrote (sign up, then at once read the categories the ledger makes for the new household). Plain
// functions over plain objects, tested under Node (web/tests/position.test.js); api.js holds the current one.

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SERVICE = /^[a-z][a-z0-9_-]*$/;
const NUMBER = /^\d+$/;
const ORDER = ["auth", "ledger", "budget", "analytics"]; // the usual order; others follow by name

/** Positions are kept as decimal text (no leading zeros): they are compared exactly, however large. */
function canonical(digits) {
  return digits.replace(/^0+(?=\d)/, "");
}

/** Is position `a` after position `b` (both canonical decimal text)? */
export function isAfter(a, b) {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/**
 * "tenant=…;auth=12;ledger=345" → { tenant: "…", positions: { auth: "12", ledger: "345" } }, or null for
 * anything that is not such a token (absent, empty, no tenant, a part that is not service=number).
 */
export function parsePosition(text) {
  if (typeof text !== "string" || !text.trim()) return null;
  let tenant = null;
  const positions = {};
  for (const part of text.split(";")) {
    const piece = part.trim();
    if (!piece) continue;
    const equals = piece.indexOf("=");
    if (equals <= 0) return null;
    const name = piece.slice(0, equals).trim();
    const value = piece.slice(equals + 1).trim();
    if (name === "tenant") {
      if (tenant !== null || !TENANT.test(value)) return null;
      tenant = value;
    } else {
      if (!SERVICE.test(name) || !NUMBER.test(value)) return null;
      const position = canonical(value);
      if (!(name in positions) || isAfter(position, positions[name])) positions[name] = position;
    }
  }
  return tenant === null ? null : { tenant, positions };
}

/** The token as the header's value: the tenant first, then auth, ledger, budget, analytics, then others. */
export function formatPosition(token) {
  const rank = (name) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  const names = Object.keys(token.positions).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return [`tenant=${token.tenant}`, ...names.map((name) => `${name}=${token.positions[name]}`)].join(";");
}

/** Are these tokens of the same household? (Ids compare without regard to letter case.) */
export function sameTenant(a, b) {
  return Boolean(a && b) && a.tenant.toLowerCase() === b.tenant.toLowerCase();
}

/**
 * The token to keep after receiving `received` while holding `current`: the received one when there is
 * none yet or it speaks of another household; else, per service, the later position of the two (a service
 * only one of them names is kept). Neither argument is changed.
 */
export function mergePositions(current, received) {
  if (!received) return current ?? null;
  if (!current || !sameTenant(current, received)) {
    return { tenant: received.tenant, positions: { ...received.positions } };
  }
  const positions = { ...current.positions };
  for (const [name, position] of Object.entries(received.positions)) {
    if (!(name in positions) || isAfter(position, positions[name])) positions[name] = position;
  }
  return { tenant: current.tenant, positions };
}
