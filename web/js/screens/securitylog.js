// #/security-log — what happened to this account: sign-ins, failures, password and two-step changes.

import { api } from "../api.js";
import { h } from "../dom.js";
import { when } from "./linktoken.js";

const LABELS = {
  LoginSucceeded: "Signed in",
  LoginFailed: "Failed sign-in",
  PasswordChanged: "Password changed",
  EmailVerified: "Email address confirmed",
  TwoFactorEnabled: "Two-step sign-in turned on",
  TwoFactorDisabled: "Two-step sign-in turned off",
  RecoveryCodeUsed: "Recovery code used",
  SessionRevoked: "Signed out",
};

export async function renderSecurityLog(container) {
  const list = h("ul", { class: "rows" });
  container.append(h("section", { class: "card stack", "aria-labelledby": "log-title" },
    h("h1", { id: "log-title", text: "Security log" }), list,
    h("p", {}, h("a", { href: "#/security" }, "Back to Security"))));
  try {
    const { items } = await api("/auth/security-log?limit=100");
    list.append(...(items.length ? items.map(entry) : [h("li", { class: "empty", text: "Nothing yet." })]));
  } catch (error) {
    list.append(h("li", { class: "status error", role: "alert", text: error.message }));
  }
}

function entry(event) {
  const where = [event.device, event.ip].filter(Boolean).join(" · ");
  return h("li", {},
    h("strong", { class: "block", text: LABELS[event.type] ?? event.type }),
    h("span", { class: "muted", text: [when(event.occurred_at), event.detail, where].filter(Boolean).join(" · ") }));
}
