// Starts the client: the session bar, the routes, and what happens when the session ends.

import { SIGNED_OUT_EVENT, isSignedIn, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { createRouter } from "./router.js";
import { renderHome } from "./screens/home.js";
import { renderSignIn } from "./screens/signin.js";
import { renderSignUp } from "./screens/signup.js";

const PUBLIC_ROUTES = new Set(["/signin", "/signup"]);

const outlet = document.getElementById("app");
const sessionBar = document.getElementById("session");

function renderSessionBar() {
  if (isSignedIn()) {
    replace(sessionBar, h("button", { type: "button", class: "link", onclick: () => signOut() }, "Sign out"));
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
  },
  guard(path) {
    renderSessionBar();
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
