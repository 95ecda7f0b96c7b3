// #/sessions — every device signed in to this account, with a way to sign each out (or all).

import { api, signOutEverywhere } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { when } from "./linktoken.js";

export async function renderSessions(container) {
  const list = h("ul", { class: "rows", "aria-live": "polite" });
  const status = statusLine();
  const everywhere = h("button", { type: "button", onclick: () => signOutEverywhere().catch((e) => status.error(e.message)) },
    "Sign out everywhere");
  container.append(h("section", { class: "card stack", "aria-labelledby": "sessions-title" },
    h("h1", { id: "sessions-title", text: "Where you are signed in" }),
    list, status.element, everywhere,
    h("p", {}, h("a", { href: "#/security" }, "Back to Security"))));

  async function load() {
    const { items } = await api("/auth/sessions");
    replace(list, items.length ? items.map(item) : h("li", { class: "empty", text: "No active sessions." }));
  }

  function item(session) {
    const revoke = h("button", { type: "button", class: "small", onclick: async () => {
      status.clear();
      try {
        await api(`/auth/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE" });
        status.ok(`${session.device} was signed out.`);
        await load();
      } catch (error) {
        status.error(error.message);
      }
    } }, "Sign out");
    return h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { class: "block", text: session.device }),
        h("span", { class: "muted", text: `${session.current ? "This device · " : ""}last seen ${when(session.last_seen_at)}`
          + ` · signed in ${when(session.created_at)}${session.ip ? ` · ${session.ip}` : ""}` })),
      session.current ? null : revoke);
  }

  try {
    await load();
  } catch (error) {
    status.error(error.message);
  }
}
