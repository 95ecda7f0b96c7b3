// A tiny hash router: "#/signin" → the screen registered for "/signin". A screen is
// `render(container, context)` and may return a cleanup function (stop timers) run when it is left.
// After a screen renders, the page title names it (its first heading), and when a person moved to it
// (a link, the back button, a shortcut) the focus goes to the new content, so a screen reader reads it and
// the keyboard continues from there — unless the screen put the focus somewhere itself. The outlet names
// the route it shows (data-route) and is aria-busy while that screen is being drawn (assistive technology
// waits for it; so do the browser tests: settled is data-route naming the address, not busy).

import { h } from "./dom.js";
import { t } from "./i18n.js";

const lazyUrls = [];

/** The route the location hash names ("#/transaction?id=…" → "/transaction"; none → "/"). */
export function currentPath() {
  const hash = window.location.hash.replace(/^#/, "");
  return hash.startsWith("/") ? hash.split("?")[0] : "/";
}

/** The query part of the location hash ("#/transaction?id=…" → URLSearchParams of id=…). */
export function params() {
  return new URLSearchParams(window.location.hash.split("?")[1] ?? "");
}

/** One value of the hash's query (`param("id")` on "#/transaction?id=…"), or null when it has none. */
export function param(name) {
  return params().get(name);
}

/**
 * A screen whose module loads when it is first shown: lazy("./screens/budgets.js", "renderBudgets").
 * Keeps the first load to the modules of the screen being opened. (Paths are relative to web/js/.)
 */
export function lazy(path, exportName) {
  const url = new URL(path, import.meta.url).href;
  lazyUrls.push(url);
  let loading = null;
  return async (container, context) => {
    loading ??= import(url).then((module) => module[exportName]);
    let render;
    try {
      render = await loading;
    } catch {
      loading = null; // try again next time (offline, or a deploy in between)
      container.append(h("p", { class: "status error", role: "alert", text: t("app.screenUnavailable") }));
      return undefined;
    }
    return render(container, context);
  };
}

/** The modules of the lazy screens (for the service worker to keep for offline use). */
export function lazyModules() {
  return [...lazyUrls];
}

export function createRouter({ outlet, routes, guard = (path) => path, notFound = "/" }) {
  let cleanup = null;
  let current = null;
  let moved = false; // this render follows a change of address, not the first load or a refresh

  async function render() {
    const requested = routes[currentPath()] ? currentPath() : notFound;
    const target = guard(requested);
    if (target !== requested) {
      navigate(target, { replace: true });
      return;
    }
    if (cleanup) cleanup();
    cleanup = null;
    current = target;
    // Each render draws into a view of its own: one overtaken while it awaited its data (a new address,
    // or a refresh of the same one) goes on drawing into a view no longer shown, not beside the new one.
    const view = document.createElement("div");
    view.className = "view";
    outlet.replaceChildren(view);
    outlet.setAttribute("data-route", target);
    outlet.setAttribute("aria-busy", "true");
    const wasMoved = moved;
    moved = false;
    let result;
    try {
      result = await routes[target](view, { navigate });
    } finally {
      if (view.isConnected) outlet.removeAttribute("aria-busy"); // else a newer render owns it
    }
    if (!view.isConnected) {
      if (typeof result === "function") result();
      return;
    }
    if (typeof result === "function") cleanup = result;
    const heading = outlet.querySelector("h1")?.textContent?.trim();
    document.title = heading ? `${heading} · Tally` : "Tally";
    if (wasMoved && !outlet.contains(document.activeElement)) outlet.focus();
  }

  function navigate(target, { replace = false } = {}) {
    const hash = `#${target}`;
    if (window.location.hash === hash) {
      render();
    } else if (replace) {
      window.history.replaceState(null, "", hash);
      render();
    } else {
      window.location.hash = hash;
    }
  }

  window.addEventListener("hashchange", () => {
    moved = true;
    render();
  });
  return { start: render, navigate, refresh: render };
}
