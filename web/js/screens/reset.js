// #/reset?token=… — where the link in the password-reset email lands: choose a new password.

import { api, forgetSession } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { takeLinkToken } from "./linktoken.js";

export function renderReset(container) {
  const token = takeLinkToken("/reset");
  if (!token) {
    container.append(h("section", { class: "card narrow stack" },
      h("h1", { text: "Reset your password" }),
      h("p", { class: "status error", text: "This link is incomplete. Open the link from the email again." }),
      h("p", {}, h("a", { href: "#/forgot" }, "Ask for a new link"))));
    return;
  }
  const password = h("input", { type: "password", name: "new-password", autocomplete: "new-password",
    required: true, minlength: 10 });
  const status = statusLine();
  const form = h("form", { class: "card narrow stack", "aria-labelledby": "reset-title" },
    h("h1", { id: "reset-title", text: "Choose a new password" }),
    field("New password", password, "At least 10 characters, and not a common password."),
    h("button", { type: "submit", class: "primary" }, "Set the password"),
    status.element,
  );
  onSubmit(form, status, async () => {
    await api("/auth/password-reset/confirm", {
      method: "POST", body: { token, new_password: password.value }, auth: false,
    });
    forgetSession(); // every session was signed out, this browser's too
    replace(container, h("section", { class: "card narrow stack" },
      h("h1", { text: "Password changed" }),
      h("p", { class: "status ok", role: "status", text: "Your new password is set and every session was signed out." }),
      h("p", {}, h("a", { href: "#/signin" }, "Sign in"))));
  });
  container.append(form);
  password.focus();
}
