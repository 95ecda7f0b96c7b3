// A tiny hash router: "#/signin" → the screen registered for "/signin". A screen is
// `render(container, context)` and may return a cleanup function (stop timers) run when it is left.

export function createRouter({ outlet, routes, guard = (path) => path, notFound = "/" }) {
  let cleanup = null;
  let current = null;

  function path() {
    const hash = window.location.hash.replace(/^#/, "");
    return hash.startsWith("/") ? hash.split("?")[0] : "/";
  }

  async function render() {
    const requested = routes[path()] ? path() : notFound;
    const target = guard(requested);
    if (target !== requested) {
      navigate(target, { replace: true });
      return;
    }
    if (cleanup) cleanup();
    cleanup = null;
    current = target;
    outlet.replaceChildren();
    const result = await routes[target](outlet, { navigate });
    if (current === target && typeof result === "function") cleanup = result;
    else if (typeof result === "function") result();
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

  window.addEventListener("hashchange", render);
  return { start: render, navigate, refresh: render };
}
