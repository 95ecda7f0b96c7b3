// #/security-log — what happened to this account: sign-ins, failures, password and two-step changes.

import { api } from "../api.js";
import { h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { t } from "../i18n.js";

// Event type → key of its label (read with t() when rendering, so it follows a language change).
const LABELS = {
  LoginSucceeded: "securityLog.events.loginSucceeded",
  LoginFailed: "securityLog.events.loginFailed",
  PasswordChanged: "securityLog.events.passwordChanged",
  EmailVerified: "securityLog.events.emailVerified",
  TwoFactorEnabled: "securityLog.events.twoFactorEnabled",
  TwoFactorDisabled: "securityLog.events.twoFactorDisabled",
  RecoveryCodeUsed: "securityLog.events.recoveryCodeUsed",
  SessionRevoked: "securityLog.events.sessionRevoked",
};

export async function renderSecurityLog(container) {
  const list = h("ul", { class: "rows" });
  container.append(h("section", { class: "card stack", "aria-labelledby": "log-title" },
    h("h1", { id: "log-title", text: t("securityLog.title") }), list,
    h("p", {}, h("a", { href: "#/security" }, t("securityLog.back")))));
  try {
    const { items } = await api("/auth/security-log?limit=100");
    list.append(...(items.length ? items.map(entry) : [h("li", { class: "empty", text: t("securityLog.empty") })]));
  } catch (error) {
    list.append(h("li", { class: "status error", role: "alert", text: error.message }));
  }
}

function entry(event) {
  const where = [event.device, event.ip].filter(Boolean).join(" · ");
  return h("li", {},
    h("strong", { class: "block", text: LABELS[event.type] ? t(LABELS[event.type]) : event.type }),
    h("span", { class: "muted", text: [formatDateTime(event.occurred_at), event.detail, where].filter(Boolean).join(" · ") }));
}
