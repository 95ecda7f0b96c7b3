import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatDateTime } from "../format.js";
import { load, panel } from "./panel.js";

const SHOWN = 10;

/** The in-app feed. `badge` (in the session bar) shows the unread count. */
export function notificationsPanel(ctx) {
  const { element, heading, body, status } = panel("Notifications", { className: "notifications" });
  const badge = h("span", { class: "badge", hidden: true });
  heading.append(" ", badge);
  const list = h("ul", { class: "rows" });
  replace(body, list);
  let lastUnread = null;

  async function markRead(notification, button) {
    button.disabled = true;
    try {
      await api(`/notifier/notifications/${encodeURIComponent(notification.id)}/read`, { method: "POST" });
      await refresh();
    } catch (error) {
      status.error(error.message);
      button.disabled = false;
    }
  }

  function show({ items, unread }) {
    badge.hidden = unread === 0;
    badge.textContent = `${unread} unread`;
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, "Nothing yet. Budget alerts will show up here."));
      return;
    }
    replace(list, items.slice(0, SHOWN).map((n) => {
      const button = n.read ? null : h("button", { type: "button", class: "small" }, "Mark read");
      button?.addEventListener("click", () => markRead(n, button));
      return h("li", { class: `notification ${n.read ? "read" : "unread"}` },
        h("div", { class: "row-item" },
          h("strong", { class: "grow", text: n.title }),
          button),
        n.body ? h("p", { text: n.body }) : null,
        h("small", { class: "muted", text: formatDateTime(n.created_at) }));
    }));
  }

  async function refresh() {
    await load(status, async () => {
      const feed = await api("/notifier/notifications");
      show(feed);
      // A new alert usually means a budget moved: bring the budgets up to date with it.
      if (lastUnread !== null && feed.unread > lastUnread) ctx.changed(["budgets", "report"]);
      lastUnread = feed.unread;
    });
  }

  return { element, load: refresh };
}
