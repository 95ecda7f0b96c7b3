// The notification feed, shared by the notification centre and the home panel: one item as a row, and the
// live stream of the notifier.
//
// Live updates: the notifier's /stream is server-sent events. The browser's EventSource cannot send an
// Authorization header, and an access token in a URL ends up in logs, so `openFeedStream` reads the same
// text/event-stream with fetch() and a bearer token, and reconnects with Last-Event-ID like EventSource.

import { api, isSignedIn } from "../api.js";
import { h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { t } from "../i18n.js";

// The access token api.js keeps for this tab (see api.js: memory and sessionStorage).
const ACCESS_KEY = "tally.accessToken";

// One connection per tab, shared by whoever listens (the home panel, the centre): a browser allows only a
// few connections per server, and a stream holds one for as long as it is open.
const listeners = new Set();
let stopShared = null;

/**
 * Listens to the live feed. `onEvent(name, data)` gets "notification" (a new or updated item) and "unread"
 * ({unread}). Returns a function that stops listening; the connection closes with its last listener.
 */
export function openFeedStream(onEvent) {
  listeners.add(onEvent);
  stopShared ??= connectStream((name, data) => {
    for (const listener of [...listeners]) listener(name, data);
  });
  return () => {
    listeners.delete(onEvent);
    if (listeners.size === 0 && stopShared) {
      stopShared();
      stopShared = null;
    }
  };
}

/** The connection itself: reconnects after a drop; on 401 lets api.js refresh the token first. */
function connectStream(onEvent) {
  let closed = false;
  let controller = null;
  let lastId = null;

  async function connect() {
    while (!closed && isSignedIn()) {
      controller = new AbortController();
      try {
        const headers = { Accept: "text/event-stream" };
        const token = sessionStorage.getItem(ACCESS_KEY);
        if (token) headers.Authorization = `Bearer ${token}`;
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const response = await fetch("/api/notifier/stream", { headers, cache: "no-store", signal: controller.signal });
        if (response.status === 401) {
          await api("/notifier/notifications?limit=1"); // refreshes the token, or signs out if it cannot
          continue;
        }
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        await read(response.body.getReader());
      } catch (error) {
        if (closed) return;
      }
      if (!closed) await new Promise((resolve) => { setTimeout(resolve, 3000); });
    }
  }

  async function read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  function dispatch(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("id: ")) lastId = line.slice(4);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length === 0) return; // a keep-alive comment or the retry hint
    try {
      onEvent(name, JSON.parse(data.join("\n")));
    } catch {
      // one bad event does not stop the stream
    }
  }

  connect();
  return () => {
    closed = true;
    controller?.abort();
  };
}

/** Marks `notification` read (its button disabled meanwhile), then `reload()`s; a failure shows in `status`. */
export async function markRead(notification, button, status, reload) {
  button.disabled = true;
  try {
    await api(`/notifier/notifications/${encodeURIComponent(notification.id)}/read`, { method: "POST" });
    await reload();
  } catch (error) {
    status.error(error.message);
    button.disabled = false;
  }
}

/** One feed item; `onRead(n, button)` marks it read (markRead). */
export function notificationItem(n, onRead) {
  const button = n.read ? null : h("button", { type: "button", class: "small" }, t("notifications.markRead"));
  button?.addEventListener("click", () => onRead(n, button));
  const title = n.link ? h("a", { href: n.link.replace(/^\/(?=#)/, ""), text: n.title }) : h("span", { text: n.title });
  return h("li", { class: `notification ${n.read ? "read" : "unread"}`, "data-id": n.id },
    h("div", { class: "row-item" }, h("strong", { class: "grow" }, title), button),
    n.body ? h("p", { text: n.body }) : null,
    h("small", { class: "muted", text: formatDateTime(n.created_at) }));
}
