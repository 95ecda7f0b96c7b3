// The home screen: accounts, the entry form, recent transactions, this month's budgets and report, and
// notifications (polled every 5 s). Budgets and the report are updated by other services from ledger
// events, a moment after a transaction is recorded: they are read again after a change, and the position
// token the change answered (api.js) makes those services catch up with it before they answer.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { loadSnapshot, saveSnapshot } from "../offline.js";
import { params } from "../router.js";
import { accountsPanel } from "../panels/accounts.js";
import { budgetsPanel } from "../panels/budgets.js";
import { entryPanel } from "../panels/entry.js";
import { notificationsPanel } from "../panels/notifications.js";
import { reportPanel } from "../panels/report.js";
import { transactionsPanel } from "../panels/transactions.js";
import { askAgainWhileEmpty } from "../widgets/inputs.js";

const POLL_MS = 5000;

export async function renderHome(container, { navigate } = {}) {
  const greeting = h("h1", { class: "greeting", text: t("home.title") });
  container.append(greeting);

  let me;
  let categories;
  try {
    [me, { items: categories }] = await Promise.all([api("/auth/me"), api("/ledger/categories")]);
  } catch (error) {
    if (!greeting.isConnected) return undefined; // the session ended and another screen took over
    const snapshot = error.status === 0 ? await loadSnapshot() : null;
    if (snapshot && greeting.isConnected) return renderOffline(container, greeting, snapshot, navigate);
    container.append(h("p", { class: "status error", role: "alert", text: error.message }));
    return undefined;
  }
  // Left meanwhile (the reads can wait for the ledger to catch up): nothing more to draw or to ask for.
  if (!greeting.isConnected) return undefined;
  greeting.textContent = t("home.hello", { name: me.display_name });

  const ctx = { me, categories, accounts: [], changed };
  const panels = {
    accounts: accountsPanel(ctx),
    entry: entryPanel(ctx),
    transactions: transactionsPanel(ctx),
    budgets: budgetsPanel(ctx),
    report: reportPanel(ctx),
    notifications: notificationsPanel(ctx),
  };

  async function reload(names) {
    await Promise.all(names.map((name) => panels[name].load?.()));
    for (const p of Object.values(panels)) p.sync?.();
    // What the entry form needs after an offline start (see offline.js), kept up to date.
    if (names.includes("accounts")) saveSnapshot(ctx);
  }

  async function changed(names) {
    await reload(names);
  }

  container.append(h("div", { class: "grid" },
    h("div", { class: "column" }, panels.entry.element, panels.accounts.element, panels.transactions.element),
    h("div", { class: "column" }, panels.notifications.element, panels.budgets.element, panels.report.element),
  ));
  for (const p of Object.values(panels)) p.sync?.();
  reload(Object.keys(panels));
  // "#/?add=1": the "n" shortcut and the installed app's "Add an expense" shortcut go straight to the amount.
  if (params().has("add")) panels.entry.focusAmount();

  // A brand-new household gets its default categories a moment after sign-up (the ledger creates them
  // when it hears of the household): the token sign-up answered makes the read above wait for them.
  // Read without it (signed up elsewhere a moment ago), they are asked for again when a form is used.
  askAgainWhileEmpty(container, () => ctx.categories.length === 0, async () => {
    ctx.categories = (await api("/ledger/categories")).items;
    for (const p of Object.values(panels)) p.sync?.();
    saveSnapshot(ctx);
  });

  const poll = setInterval(() => {
    if (!document.hidden) panels.notifications.load();
  }, POLL_MS);

  return () => {
    clearInterval(poll);
    for (const p of Object.values(panels)) p.cleanup?.();
  };
}

/**
 * Started offline with no answer from the server: the entry form alone, with the accounts and categories
 * this device remembers, so an expense can still be noted (it is sent when the network is back, and then
 * the whole home screen loads).
 */
function renderOffline(container, greeting, snapshot, navigate) {
  greeting.textContent = t("home.hello", { name: snapshot.me.display_name });
  const ctx = { me: snapshot.me, categories: snapshot.categories, accounts: snapshot.accounts, changed: async () => {} };
  const entry = entryPanel(ctx);
  container.append(h("p", { class: "status" }, t("home.offlineStart")), h("div", { class: "grid" },
    h("div", { class: "column" }, entry.element)));
  entry.sync();
  if (params().has("add")) entry.focusAmount();
  const back = () => navigate?.("/");
  window.addEventListener("online", back, { once: true });
  return () => {
    window.removeEventListener("online", back);
    entry.cleanup();
  };
}
