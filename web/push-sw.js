// Web Push for the service worker: imported by /sw.js (importScripts), or registered alone when there is
// no /sw.js. The notifier sends {title, body, url, tag, type}, encrypted for this browser (RFC 8291).
// `tag` is the delivery id: a push delivered twice replaces the shown notification instead of adding one.

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "Tally", body: event.data ? event.data.text() : "" };
  }
  const title = data.title || "Tally";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag || undefined,
    icon: "/icon.svg",
    badge: "/icon.svg",
    data: { url: data.url || "/#/notifications" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/#/notifications", self.location.origin);
  // Only ever open this app's own pages.
  const url = target.origin === self.location.origin ? target.href : new URL("/#/notifications", self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).origin === self.location.origin && "focus" in client) {
        await client.navigate(url).catch(() => {});
        return client.focus();
      }
    }
    return self.clients.openWindow(url);
  })());
});
