// Starts the client: the strings, the main menu, the routes, the offline parts, keyboard shortcuts, and
// what happens when the session ends.
//
// Adding a screen: one line in `routes`, `"/budgets": lazy("./screens/budgets.js", "renderBudgets"),` — the
// module loads when the screen is first visited, so the first load stays small — and (if it belongs in the
// main menu) one line to NAV: { path: "/budgets", label: "nav.budgets" } — a key in web/locales/*.json (a
// test fails on visible text that is not one; see docs/web.md, "Translations").

import { watchAccessibility } from "./a11y.js";
import { SIGNED_OUT_EVENT, isSignedIn, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { LANGUAGES, currentLanguage, initI18n, setLanguage, t } from "./i18n.js";
import { discardDeviceData, pendingWrites, registerServiceWorker, syncOutbox, watchNetwork } from "./offline.js";
import { createRouter, currentPath, lazy, lazyModules } from "./router.js";
import { installShortcuts } from "./shortcuts.js";
import { renderTabBar } from "./tabbar.js";
import { renderHome } from "./screens/home.js";
import { PENDING_INVITE, renderInvite } from "./screens/invite.js";

const PUBLIC_ROUTES = new Set(["/signin", "/signup", "/forgot"]);
// Mailed links open whether or not this browser is signed in.
const LINK_ROUTES = new Set(["/verify", "/reset", "/invite"]);

// The main menu of a signed-in person; `label` is a string key. `bar`: the place (1-4) in the phone's bottom
// bar (tabbar.js) of the places used daily; the rest are under its "More".
const NAV = [
  { path: "/", label: "nav.home", bar: 1 },
  { path: "/transactions", label: "nav.transactions", bar: 2 },
  { path: "/dashboard", label: "nav.dashboard" },
  { path: "/reports", label: "nav.reports", bar: 4 },
  { path: "/import", label: "nav.import" },
  { path: "/budgets", label: "nav.budgets", bar: 3 },
  { path: "/household", label: "nav.household" },
  { path: "/shared", label: "nav.shared" },
  { path: "/notifications", label: "nav.notifications" },
  { path: "/profile", label: "nav.profile" },
  { path: "/security", label: "nav.security" },
];

await initI18n();

const outlet = document.getElementById("app");
const sessionBar = document.getElementById("session");
const tabBar = h("nav", { class: "tabbar", hidden: true });
document.body.append(tabBar);
// The width below which the bottom bar replaces the top menu (as in css/shell.css).
const PHONE = window.matchMedia("(max-width: 640px)");
PHONE.addEventListener("change", () => renderSessionBar());

/** Asks before signing out over writes not yet sent; signing out deletes them from this device. */
async function signOutHere() {
  if ((await pendingWrites()).length) await syncOutbox();
  const left = (await pendingWrites()).length;
  if (left && !window.confirm(t("offline.signOutConfirm", { count: left }))) return;
  await discardDeviceData();
  await signOut();
}

function renderSessionBar() {
  if (!isSignedIn()) {
    replace(sessionBar);
    replace(tabBar);
    tabBar.hidden = true;
    return;
  }
  const here = currentPath();
  const extras = () => [
    h("select", { class: "language", "aria-label": t("nav.language"),
      onchange: async (event) => { await setLanguage(event.target.value); router.refresh(); } },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, selected: code === currentLanguage(),
      lang: code }, name))),
    // The user guide (docs/guide.md), served by the gateway as a page of its own: a new tab keeps this one.
    h("a", { href: "/guide/", target: "_blank", rel: "noopener" }, t("nav.help")),
    h("button", { type: "button", class: "link", onclick: signOutHere }, t("nav.signOut")),
  ];
  // One main menu in the page at a time (one "Language", one "Sign out"): the phone's bar, or the top menu.
  if (PHONE.matches) {
    replace(sessionBar);
    tabBar.setAttribute("aria-label", t("nav.main"));
    tabBar.hidden = false;
    renderTabBar(tabBar, { nav: NAV, here, extras, navigate: (path) => router.navigate(path) });
    return;
  }
  replace(tabBar);
  tabBar.hidden = true;
  replace(sessionBar, h("ul", { class: "menu" },
    NAV.map(({ path, label }) => h("li", {}, h("a", { href: `#${path}`,
      "aria-current": path === here ? "page" : null }, t(label)))),
    extras().map((node) => h("li", {}, node))));
}

const router = createRouter({
  outlet,
  routes: {
    "/": renderHome,
    "/dashboard": lazy("./screens/dashboard.js", "renderDashboard"),
    "/reports": lazy("./screens/reports.js", "renderReports"),
    "/signin": lazy("./screens/signin.js", "renderSignIn"),
    "/signup": lazy("./screens/signup.js", "renderSignUp"),
    "/forgot": lazy("./screens/forgot.js", "renderForgot"),
    "/verify": lazy("./screens/verify.js", "renderVerify"),
    "/reset": lazy("./screens/reset.js", "renderReset"),
    "/security": lazy("./screens/security.js", "renderSecurity"),
    "/sessions": lazy("./screens/sessions.js", "renderSessions"),
    "/security-log": lazy("./screens/securitylog.js", "renderSecurityLog"),
    "/two-factor": lazy("./screens/twofactor.js", "renderTwoFactor"),
    "/transactions": lazy("./screens/transactions.js", "renderTransactions"),
    "/transaction": lazy("./screens/transaction.js", "renderTransaction"),
    "/categorise": lazy("./screens/categorise.js", "renderCategorise"),
    "/accounts": lazy("./screens/accounts.js", "renderAccounts"),
    "/reconcile": lazy("./screens/reconcile.js", "renderReconcile"),
    "/categories": lazy("./screens/categories.js", "renderCategories"),
    "/import": lazy("./screens/imports.js", "renderImports"),
    "/recurring": lazy("./screens/recurring.js", "renderRecurring"),
    "/rules": lazy("./screens/rules.js", "renderRules"),
    "/rates": lazy("./screens/rates.js", "renderRates"),
    "/profile": lazy("./screens/profile.js", "renderProfile"),
    "/household": lazy("./screens/household.js", "renderHousehold"),
    "/members": lazy("./screens/members.js", "renderMembers"),
    "/shared": lazy("./screens/shared.js", "renderShared"),
    "/invite": renderInvite,
    "/my-data": lazy("./screens/mydata.js", "renderMyData"),
    "/budgets": lazy("./screens/budgets.js", "renderBudgets"),
    "/budget": lazy("./screens/budget.js", "renderBudget"),
    "/goals": lazy("./screens/goals.js", "renderGoals"),
    "/goal": lazy("./screens/goal.js", "renderGoal"),
    "/notifications": lazy("./screens/notifications.js", "renderNotifications"),
    "/preferences": lazy("./screens/preferences.js", "renderPreferences"),
    "/webhooks": lazy("./screens/webhooks.js", "renderWebhooks"),
  },
  guard(path) {
    renderSessionBar();
    if (LINK_ROUTES.has(path)) return path;
    // An invitation opened before signing in comes back once signed in (screens/invite.js).
    if (isSignedIn() && sessionStorage.getItem(PENDING_INVITE)) return "/invite";
    if (!isSignedIn() && !PUBLIC_ROUTES.has(path)) return "/signin";
    if (isSignedIn() && PUBLIC_ROUTES.has(path)) return "/";
    return path;
  },
});

window.addEventListener(SIGNED_OUT_EVENT, (event) => {
  if (event.detail?.expired) sessionStorage.setItem("tally.notice", t("session.ended"));
  else if (currentPath() === "/signin") return; // already there: drawing it anew would wipe what is typed
  router.navigate("/signin", { replace: true });
});

document.title = t("app.title");
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault(); // "#app" would be taken for a route
  outlet.focus();
});
document.querySelector(".skip-link").textContent = t("nav.skip");
sessionBar.setAttribute("aria-label", t("nav.main"));
watchNetwork(document.getElementById("network"));
watchAccessibility(outlet);
installShortcuts({ navigate: (path) => router.navigate(path) });
// Resolves once the first screen is drawn or failed (a failure still surfaces, unhandled, as before).
const firstScreen = new Promise((resolve) => { router.start().finally(resolve); });
registerServiceWorker(lazyModules(), firstScreen);
if (isSignedIn()) syncOutbox();
