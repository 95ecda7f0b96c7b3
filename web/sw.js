// Tally's service worker: the app shell works offline; household data never touches its caches.
//
// - Static files (HTML, CSS, modules, icons) are fetched from the network first, so a deploy shows at once
//   (the gateway revalidates them cheaply by ETag), and the cached copy answers when the network is down.
// - /api/ is never intercepted, never cached: responses belong to one signed-in person, and a cache here
//   would outlive a sign-out and could be read by whoever uses the device next.
// - The cache name carries VERSION; activating a new worker deletes every older Tally cache.
// - Push notification handlers live in /push-sw.js (the notifier's part) and are imported when present.

const VERSION = "v1";
const CACHE_PREFIX = "tally-shell-";
const SHELL_CACHE = `${CACHE_PREFIX}${VERSION}`;

// The start-up files; everything else the page loads is added when the page reports it (see "cache-urls").
const SHELL = [
  "/",
  "/index.html",
  "/styles.css",
  "/css/shell.css",
  "/manifest.webmanifest",
  "/icon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/js/app.js",
  "/js/api.js",
  "/js/position.js",
  "/js/dom.js",
  "/js/router.js",
  "/js/format.js",
  "/js/money.js",
  "/js/i18n.js",
  "/js/offline.js",
  "/js/shortcuts.js",
  "/js/tabbar.js",
  "/js/a11y.js",
  "/locales/en.json",
  "/locales/de.json",
];

try {
  importScripts("/push-sw.js");
} catch {
  // No push handlers deployed (the file is absent or failed to load): the shell works without them.
}

/** Paths the worker must leave to the network untouched. */
function isPassThrough(url) {
  return url.origin !== self.location.origin || url.pathname.startsWith("/api/")
    || ["/healthz", "/readyz", "/metrics", "/sw.js", "/push-sw.js"].includes(url.pathname);
}

async function cacheQuietly(cache, path) {
  try {
    const response = await fetch(path, { cache: "no-cache" });
    if (response.ok && response.type === "basic") await cache.put(path, response);
  } catch {
    // One missing file must not stop the others (or the installation).
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await Promise.all(SHELL.map((path) => cacheQuietly(cache, path)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

// The page tells the worker which files it loaded, so the modules of every screen are there offline
// without keeping a list of them here.
self.addEventListener("message", (event) => {
  if (event.origin && event.origin !== self.location.origin) return;
  const data = event.data ?? {};
  if (data.type !== "cache-urls" || !Array.isArray(data.urls)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    const paths = data.urls.slice(0, 500).map((raw) => {
      try {
        return new URL(raw, self.location.origin);
      } catch {
        return null;
      }
    }).filter((url) => url && !isPassThrough(url)).map((url) => url.pathname);
    await Promise.all([...new Set(paths)].map(async (path) => {
      if (!(await cache.match(path))) await cacheQuietly(cache, path);
    }));
  })());
});

async function networkFirst(request, fallbackPath) {
  const url = new URL(request.url);
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") await cache.put(url.pathname, response.clone());
    return response;
  } catch (error) {
    const cached = (await cache.match(url.pathname)) ?? (fallbackPath && (await cache.match(fallbackPath)));
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (isPassThrough(url)) return;
  // Client routes are all the one page (index.html); offline, the cached one starts the app.
  event.respondWith(networkFirst(request, request.mode === "navigate" ? "/index.html" : null));
});
