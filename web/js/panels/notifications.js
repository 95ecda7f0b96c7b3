import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { load, panel } from "./panel.js";
import { markRead, notificationItem, openFeedStream } from "../widgets/feed.js";

const SHOWN = 10;

/** The in-app feed on the home screen, live over the notifier's event stream; the badge shows unread. */
export function notificationsPanel(ctx) {
  const { element, heading, body, status } = panel(t("notificationsPanel.title"), { className: "notifications" });
  const badge = h("span", { class: "badge", hidden: true });
  heading.append(" ", badge);
  const list = h("ul", { class: "rows" });
  replace(body, list, h("p", {}, h("a", { href: "#/notifications" }, t("notificationsPanel.all"))));
  let lastUnread = null;
  let closeStream = null;

  function show({ items, unread }) {
    badge.hidden = unread === 0;
    badge.textContent = t("notificationsPanel.unread", { count: unread });
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, t("notificationsPanel.empty")));
      return;
    }
    replace(list, items.slice(0, SHOWN).map((n) => notificationItem(n, (item, button) => markRead(item, button, status, refresh))));
  }

  async function refresh() {
    await load(status, async () => {
      const feed = await api("/notifier/notifications");
      show(feed);
      // A new alert usually means a budget moved: bring the budgets up to date with it.
      if (lastUnread !== null && feed.unread > lastUnread) ctx.changed(["budgets", "report"]);
      lastUnread = feed.unread;
    });
    // Live from then on: a new notification (or one read in another tab) refreshes the list at once.
    if (closeStream === null && element.isConnected) {
      closeStream = openFeedStream(() => {
        if (element.isConnected) refresh();
        else stopLive();
      });
      window.addEventListener("hashchange", stopLive, { once: true });
    }
  }

  function stopLive() {
    closeStream?.();
    closeStream = null;
  }

  return { element, load: refresh };
}
