// #/notifications — the notification centre: every notification, unread first if asked, mark read (one or
// all), updated live while open.
// (widgets/feed.js: the items and the live stream).

import { api } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { markRead, notificationItem, openFeedStream } from "../widgets/feed.js";

export async function renderNotifications(container) {
  const status = statusLine();
  const list = h("ul", { class: "rows", "aria-live": "polite" });
  const count = h("p", { class: "muted", role: "status" });
  const onlyUnread = h("input", { type: "checkbox", id: "only-unread" });
  const readAll = h("button", { type: "button" }, t("notifications.markAllRead"));
  container.append(h("section", { class: "card stack notification-centre", "aria-labelledby": "notifications-title" },
    h("h1", { id: "notifications-title", text: t("notifications.title") }),
    h("div", { class: "row-item" },
      h("label", { class: "grow" }, onlyUnread, ` ${t("notifications.unreadOnly")}`), readAll),
    count, status.element, list,
    h("p", {}, h("a", { href: "#/preferences" }, t("notifications.settings")), " · ",
      h("a", { href: "#/webhooks" }, t("notifications.webhooks")))));

  let items = [];

  function show(unread) {
    count.textContent = unread === 0 ? t("notifications.allRead") : t("notifications.unread", { count: unread });
    const shown = onlyUnread.checked ? items.filter((n) => !n.read) : items;
    replace(list, shown.length ? shown.map((n) => notificationItem(n, (item, button) => markRead(item, button, status, load)))
      : h("li", { class: "empty", text: t("notifications.empty") }));
  }

  async function load() {
    const feed = await api("/notifier/notifications?limit=200");
    items = feed.items;
    show(feed.unread);
  }

  readAll.addEventListener("click", async () => {
    status.clear();
    try {
      await api("/notifier/notifications/read-all", { method: "POST" });
      await load();
    } catch (error) {
      status.error(error.message);
    }
  });
  onlyUnread.addEventListener("change", () => load().catch((e) => status.error(e.message)));

  try {
    await load();
  } catch (error) {
    status.error(error.message);
  }
  const close = openFeedStream((name, data) => {
    if (!list.isConnected) {
      close();
      return;
    }
    if (name === "notification") {
      items = [data, ...items.filter((n) => n.id !== data.id)];
      show(items.filter((n) => !n.read).length);
    } else if (name === "unread") {
      load().catch(() => {});
    }
  });
  // Leaving the screen (the router replaces the outlet) ends the stream.
  window.addEventListener("hashchange", close, { once: true });
}
