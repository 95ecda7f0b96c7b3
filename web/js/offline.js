// Working without a connection: the service worker (offline app shell), the network state shown in the
// page, and the outbox — writes made offline, kept in IndexedDB and sent once when the network is back.
//
// Exactly once: every new transaction carries an id chosen here (`id` in POST /ledger/transactions). A
// write whose answer never arrived (the connection dropped mid-request) is simply sent again with the same
// id: the ledger answers 200 with the transaction it already recorded, or 201 if the first attempt never
// arrived. The Web Locks API keeps two tabs from syncing at once.
//
// Privacy: each entry is labelled with the user and household of the token that queued it, and is only
// ever sent with that user's session; signing out (on purpose) deletes that user's entries and snapshot
// from the device.

import { ApiError, api, isSignedIn, sessionOwner } from "./api.js";
import { t } from "./i18n.js";

const DB_NAME = "tally";
const DB_VERSION = 2;
const OUTBOX = "outbox";
const SNAPSHOT = "snapshot";
const RETRY_MS = 15000;

export const OUTBOX_EVENT = "tally:outbox";
export const NETWORK_EVENT = "tally:network";

// --- service worker ----------------------------------------------------------------------------------------

/** Runs `work` when the browser has nothing better to do (at once where it cannot say). */
function whenIdle(work) {
  if ("requestIdleCallback" in window) window.requestIdleCallback(work);
  else setTimeout(work, 0);
}

/**
 * Registers /sw.js and hands it the files this page loaded, so they work offline; `later` (the modules of
 * screens not opened yet) once `firstScreen` is drawn and the browser is idle, so caching them does not
 * compete with the first load (not after some seconds: a slow first screen could take longer).
 */
export async function registerServiceWorker(later = [], firstScreen = Promise.resolve()) {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    const registration = await navigator.serviceWorker.ready;
    const urls = performance.getEntriesByType("resource").map((entry) => entry.name)
      .filter((name) => name.startsWith(window.location.origin) && !name.includes("/api/"));
    registration.active?.postMessage({ type: "cache-urls", urls: [window.location.origin + "/", ...urls] });
    await firstScreen;
    whenIdle(() => registration.active?.postMessage({ type: "cache-urls", urls: later }));
  } catch {
    // Without a worker the client works as before, only not offline.
  }
}

// --- IndexedDB ---------------------------------------------------------------------------------------------

let opening = null;

function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(OUTBOX)) {
        db.createObjectStore(OUTBOX, { keyPath: "key" }).createIndex("owner", "owner");
      }
      if (!db.objectStoreNames.contains(SNAPSHOT)) db.createObjectStore(SNAPSHOT, { keyPath: "owner" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => { opening = null; reject(request.error); };
  });
  return opening;
}

async function withStore(mode, work, name = OUTBOX) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(name, mode);
    const result = work(transaction.objectStore(name));
    transaction.oncomplete = () => resolve(result.result ?? result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

const putEntry = (entry) => withStore("readwrite", (store) => store.put(entry));
const deleteEntry = (key) => withStore("readwrite", (store) => store.delete(key));

async function entriesOf(user) {
  const entries = await withStore("readonly", (store) => store.index("owner").getAll(user));
  return (entries ?? []).sort((a, b) => a.queuedAt - b.queuedAt);
}

// --- what the device remembers for an offline start ---------------------------------------------------------
//
// To add an expense offline in a fresh tab (an installed app is started offline, with no token in this tab)
// the entry form needs the person's name, accounts and categories: the home screen keeps that little
// snapshot (no transactions, no balances) in IndexedDB for the signed-in user, one at a time; signing out
// deletes it with the outbox. The user it belongs to labels what is queued offline, and the queue is only
// sent once a session of that same user is back.

let rememberedOwner = null; // { user, tenant } of the snapshot in use while there is no token in this tab

/** Who queued writes belong to: the session's user, else (offline, no token yet) the snapshot's. */
function currentOwner() {
  return sessionOwner() ?? rememberedOwner;
}

/** Keeps { me, accounts, categories } for the current user (replacing any other user's). */
export async function saveSnapshot({ me, accounts, categories }) {
  const owner = sessionOwner();
  if (!owner || !("indexedDB" in window)) return;
  const snapshot = {
    owner: owner.user,
    tenant: owner.tenant,
    savedAt: Date.now(),
    me: { display_name: me.display_name, base_currency: me.base_currency },
    accounts: accounts.map(({ id, name, kind, currency }) => ({ id, name, kind, currency })),
    categories: categories.map(({ id, name, group, kind }) => ({ id, name, group, kind })),
  };
  try {
    await withStore("readwrite", (store) => { store.clear(); return store.put(snapshot); }, SNAPSHOT);
  } catch {
    // Without it, only the offline start is lost.
  }
}

/** The remembered snapshot (and its user becomes the owner of what is queued), or null. */
export async function loadSnapshot() {
  if (!("indexedDB" in window)) return null;
  try {
    const all = await withStore("readonly", (store) => store.getAll(), SNAPSHOT);
    const snapshot = all?.[0] ?? null;
    const owner = sessionOwner();
    if (!snapshot || (owner && owner.user !== snapshot.owner)) return null;
    rememberedOwner = { user: snapshot.owner, tenant: snapshot.tenant };
    return snapshot;
  } catch {
    return null;
  }
}

async function discardSnapshot() {
  rememberedOwner = null;
  try {
    await withStore("readwrite", (store) => store.clear(), SNAPSHOT);
  } catch {
    // nothing kept
  }
}

// --- the outbox --------------------------------------------------------------------------------------------

function announce(detail = {}) {
  window.dispatchEvent(new CustomEvent(OUTBOX_EVENT, { detail }));
}

/** A random (version 4) UUID; `crypto.randomUUID` exists only in secure contexts, this everywhere. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Keeps a new transaction (the body of POST /ledger/transactions, with the `id` that makes resending it
 * safe) to send when the network is back.
 */
export async function queueTransaction(body, { label } = {}) {
  const owner = currentOwner();
  if (!owner) throw new ApiError(0, t("offline.noSession"));
  const entry = {
    key: newId(),
    owner: owner.user,
    tenant: owner.tenant,
    path: "/ledger/transactions",
    body: { id: newId(), ...body },
    label,
    queuedAt: Date.now(),
  };
  await putEntry(entry);
  announce();
  scheduleRetry();
  return entry;
}

/** This user's writes still waiting to be sent, oldest first. */
export async function pendingWrites() {
  const owner = currentOwner();
  if (!owner || !("indexedDB" in window)) return [];
  try {
    return (await entriesOf(owner.user)).filter((entry) => entry.tenant === owner.tenant);
  } catch {
    return [];
  }
}

/** Deletes this user's queued writes and the snapshot from the device (on signing out). */
export async function discardDeviceData() {
  const entries = await pendingWrites();
  await Promise.all(entries.map((entry) => deleteEntry(entry.key)));
  await discardSnapshot();
  if (entries.length) announce();
  return entries.length;
}

/** Is this a failure worth trying again later (no network, server busy, session to renew)? */
function isTransient(error) {
  return !(error instanceof ApiError) || error.status === 0 || error.status === 401 || error.status === 408
    || error.status === 429 || error.status >= 500;
}

async function sendAll() {
  const result = { synced: 0, failed: [] };
  for (const entry of await pendingWrites()) {
    try {
      await api(entry.path, { method: "POST", body: entry.body }); // 201, or 200 if it had arrived before
      await deleteEntry(entry.key);
      result.synced += 1;
    } catch (error) {
      if (isTransient(error)) break; // keep this and the rest, in order, for the next round
      // The server refused it (the account was closed, a field no longer valid): it never will take it.
      await deleteEntry(entry.key);
      result.failed.push({ label: entry.label, message: error.message });
    }
  }
  return result;
}

let syncing = null;

/** Sends this user's queued writes (one sync at a time, across tabs too). Resolves to what happened. */
export function syncOutbox() {
  syncing ??= (async () => {
    try {
      if (!navigator.onLine || !isSignedIn()) return { synced: 0, failed: [] };
      // A tab started offline has no token yet: any call renews it from the session cookie.
      if (!sessionOwner()) await api("/auth/me");
      if (!sessionOwner()) return { synced: 0, failed: [] };
      const result = navigator.locks
        ? await navigator.locks.request("tally-outbox", sendAll)
        : await sendAll();
      if (result.synced || result.failed.length) announce(result);
      return result;
    } catch {
      return { synced: 0, failed: [] };
    } finally {
      syncing = null;
      scheduleRetry();
    }
  })();
  return syncing;
}

let retryTimer = null;

function scheduleRetry() {
  if (retryTimer !== null) return;
  retryTimer = setTimeout(async () => {
    retryTimer = null;
    if ((await pendingWrites()).length) syncOutbox();
  }, RETRY_MS);
}

// --- network state -----------------------------------------------------------------------------------------

export function isOnline() {
  return navigator.onLine;
}

/** Shows the network state and the number of waiting writes in `banner`; syncs when the network returns. */
export function watchNetwork(banner) {
  async function show() {
    const waiting = (await pendingWrites()).length;
    const parts = [];
    if (!navigator.onLine) parts.push(t("offline.banner"));
    if (waiting) parts.push(t("offline.waiting", { count: waiting }));
    banner.textContent = parts.join(" ");
    banner.hidden = parts.length === 0;
    banner.classList.toggle("offline", !navigator.onLine);
  }
  window.addEventListener("online", () => {
    show();
    syncOutbox();
    window.dispatchEvent(new CustomEvent(NETWORK_EVENT, { detail: { online: true } }));
  });
  window.addEventListener("offline", () => {
    show();
    window.dispatchEvent(new CustomEvent(NETWORK_EVENT, { detail: { online: false } }));
  });
  window.addEventListener(OUTBOX_EVENT, show);
  show();
}
