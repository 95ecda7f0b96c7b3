// Starts the client: the session bar, the routes, and what happens when the session ends.

import { SIGNED_OUT_EVENT, isSignedIn, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { createRouter } from "./router.js";
import { renderHome } from "./screens/home.js";
import { renderAccounts } from "./screens/accounts.js";
import { renderCategories } from "./screens/categories.js";
import { renderTransaction } from "./screens/transaction.js";
import { renderTransactions } from "./screens/transactions.js";
import { renderImports } from "./screens/imports.js";
import { renderSignIn } from "./screens/signin.js";
import { renderSignUp } from "./screens/signup.js";
import { renderForgot } from "./screens/forgot.js";
import { renderReset } from "./screens/reset.js";
import { renderSecurity } from "./screens/security.js";
import { renderSecurityLog } from "./screens/securitylog.js";
import { renderSessions } from "./screens/sessions.js";
import { renderTwoFactor } from "./screens/twofactor.js";
import { renderVerify } from "./screens/verify.js";

const PUBLIC_ROUTES = new Set(["/signin", "/signup", "/forgot"]);
// Mailed links open whether or not this browser is signed in.
const LINK_ROUTES = new Set(["/verify", "/reset"]);

const outlet = document.getElementById("app");
const sessionBar = document.getElementById("session");

function renderSessionBar() {
  if (isSignedIn()) {
    replace(sessionBar, h("a", { href: "#/transactions" }, "Transactions"),
      h("a", { href: "#/import" }, "Import"), h("a", { href: "#/security" }, "Security"),
      h("button", { type: "button", class: "link", onclick: () => signOut() }, "Sign out"));
  } else {
    replace(sessionBar);
  }
}

const router = createRouter({
  outlet,
  routes: {
    "/": renderHome,
    "/signin": renderSignIn,
    "/signup": renderSignUp,
    "/forgot": renderForgot,
    "/verify": renderVerify,
    "/reset": renderReset,
    "/security": renderSecurity,
    "/sessions": renderSessions,
    "/security-log": renderSecurityLog,
    "/two-factor": renderTwoFactor,
    "/transactions": renderTransactions,
    "/transaction": renderTransaction,
    "/accounts": renderAccounts,
    "/categories": renderCategories,
    "/import": renderImports,
  },
  guard(path) {
    renderSessionBar();
    if (LINK_ROUTES.has(path)) return path;
    if (!isSignedIn() && !PUBLIC_ROUTES.has(path)) return "/signin";
    if (isSignedIn() && PUBLIC_ROUTES.has(path)) return "/";
    return path;
  },
});

window.addEventListener(SIGNED_OUT_EVENT, (event) => {
  if (event.detail?.expired) sessionStorage.setItem("tally.notice", "Your session ended. Please sign in again.");
  router.navigate("/signin", { replace: true });
});

router.start();
