// #/sessions — every device signed in to this account, with a way to sign each out (or all).

import { api, signOutEverywhere } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { formatDateTime } from "../format.js";
import { t } from "../i18n.js";

export async function renderSessions(container) {
  const list = h("ul", { class: "rows", "aria-live": "polite" });
  const status = statusLine();
  const everywhere = h("button", { type: "button", onclick: () => signOutEverywhere().catch((e) => status.error(e.message)) },
    t("sessions.signOutEverywhere"));
  container.append(h("section", { class: "card stack", "aria-labelledby": "sessions-title" },
    h("h1", { id: "sessions-title", text: t("sessions.title") }),
    list, status.element, everywhere,
    h("p", {}, h("a", { href: "#/security" }, t("sessions.back")))));

  async function load() {
    const { items } = await api("/auth/sessions");
    replace(list, items.length ? items.map(item) : h("li", { class: "empty", text: t("sessions.empty") }));
  }

  function item(session) {
    const revoke = h("button", { type: "button", class: "small", onclick: async () => {
      status.clear();
      try {
        await api(`/auth/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE" });
        status.ok(t("sessions.signedOut", { device: session.device }));
        await load();
      } catch (error) {
        status.error(error.message);
      }
    } }, t("sessions.signOut"));
    return h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { class: "block", text: session.device }),
        h("span", { class: "muted", text: [
          session.current ? t("sessions.thisDevice") : null,
          t("sessions.lastSeen", { when: formatDateTime(session.last_seen_at) }),
          t("sessions.signedIn", { when: formatDateTime(session.created_at) }),
          session.ip,
        ].filter(Boolean).join(" · ") })),
      session.current ? null : revoke);
  }

  try {
    await load();
  } catch (error) {
    status.error(error.message);
  }
}
