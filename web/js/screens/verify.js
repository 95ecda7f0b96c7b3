// #/verify?token=… — where the link in the verification email lands.

import { api, isSignedIn } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { takeLinkToken } from "../widgets/linktoken.js";

export async function renderVerify(container) {
  const token = takeLinkToken("/verify");
  const message = h("p", { class: "status", role: "status", text: t("verify.confirming") });
  const next = isSignedIn() ? h("a", { href: "#/" }, t("verify.goToTally")) : h("a", { href: "#/signin" }, t("verify.signIn"));
  container.append(h("section", { class: "card narrow stack", "aria-labelledby": "verify-title" },
    h("h1", { id: "verify-title", text: t("verify.title") }), message, h("p", {}, next)));
  if (!token) {
    message.className = "status error";
    message.textContent = t("verify.incomplete");
    return;
  }
  try {
    await api("/auth/verify-email", { method: "POST", body: { token }, auth: false });
    message.className = "status ok";
    message.textContent = t("verify.confirmed");
    document.getElementById("check-inbox")?.remove();
  } catch (error) {
    message.className = "status error";
    message.textContent = error.status === 400
      ? t("verify.askAgain", { message: error.message }) : error.message;
  }
}
