// #/reset?token=… — where the link in the password-reset email lands: choose a new password.

import { api, forgetSession } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { takeLinkToken } from "../widgets/linktoken.js";

export function renderReset(container) {
  const token = takeLinkToken("/reset");
  if (!token) {
    container.append(h("section", { class: "card narrow stack" },
      h("h1", { text: t("reset.title") }),
      h("p", { class: "status error", text: t("reset.incomplete") }),
      h("p", {}, h("a", { href: "#/forgot" }, t("reset.askAgain")))));
    return;
  }
  const password = h("input", { type: "password", name: "new-password", autocomplete: "new-password",
    required: true, minlength: 10 });
  const status = statusLine();
  const form = h("form", { class: "card narrow stack", "aria-labelledby": "reset-title" },
    h("h1", { id: "reset-title", text: t("reset.chooseTitle") }),
    field(t("reset.newPassword"), password, t("reset.passwordHint")),
    h("button", { type: "submit", class: "primary" }, t("reset.submit")),
    status.element,
  );
  onSubmit(form, status, async () => {
    await api("/auth/password-reset/confirm", {
      method: "POST", body: { token, new_password: password.value }, auth: false,
    });
    forgetSession(); // every session was signed out, this browser's too
    replace(container, h("section", { class: "card narrow stack" },
      h("h1", { text: t("reset.doneTitle") }),
      h("p", { class: "status ok", role: "status", text: t("reset.done") }),
      h("p", {}, h("a", { href: "#/signin" }, t("reset.signIn")))));
  });
  container.append(form);
  password.focus();
}
