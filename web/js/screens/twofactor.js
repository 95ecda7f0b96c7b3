// #/two-factor — turn two-step sign-in (TOTP) on with a QR code and a confirming code, keep the
// recovery codes (shown once), get new recovery codes, or turn it off — both with the password and a code.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";

export async function renderTwoFactor(container) {
  const card = h("section", { class: "card narrow stack", "aria-labelledby": "tfa-title" },
    h("h1", { id: "tfa-title", text: "Two-step sign-in" }));
  container.append(card);
  try {
    const me = await api("/auth/me");
    if (me.two_factor_enabled) card.append(newCodesForm(), disableForm());
    else card.append(startEnrolment());
  } catch (error) {
    card.append(h("p", { class: "status error", role: "alert", text: error.message }));
  }
  card.append(h("p", {}, h("a", { href: "#/security" }, "Back to Security")));
}

function codeInput() {
  return h("input", { type: "text", name: "code", autocomplete: "one-time-code", required: true, maxlength: 20,
    spellcheck: "false" });
}

function startEnrolment() {
  const status = statusLine();
  const form = h("form", { class: "stack" },
    h("p", {}, "Two-step sign-in asks for a code from an authenticator app on your phone after your password."),
    h("button", { type: "submit", class: "primary" }, "Set up two-step sign-in"), status.element);
  onSubmit(form, status, async () => {
    const setup = await api("/auth/2fa/setup", { method: "POST" });
    form.replaceWith(confirmForm(setup));
  });
  return form;
}

function confirmForm(setup) {
  const code = codeInput();
  const status = statusLine();
  const form = h("form", { class: "stack" },
    h("p", {}, "Scan this code with your authenticator app, then enter the 6-digit code it shows."),
    h("img", { class: "qr", src: setup.qr_svg, alt: "QR code for your authenticator app", width: 220, height: 220 }),
    h("p", { class: "hint" }, "Cannot scan it? Enter this key instead: ", h("code", { text: setup.secret })),
    field("Code from the app", code),
    h("button", { type: "submit", class: "primary" }, "Turn on"), status.element);
  onSubmit(form, status, async () => {
    const { recovery_codes: codes } = await api("/auth/2fa/enable", { method: "POST", body: { code: code.value.trim() } });
    form.replaceWith(recoveryCodes(codes));
  });
  queueMicrotask(() => code.focus());
  return form;
}

function recoveryCodes(codes, note = "Two-step sign-in is on.") {
  return h("div", { class: "stack" },
    h("p", { class: "status ok", role: "status", text: note }),
    h("p", {}, h("strong", { text: "Keep these recovery codes somewhere safe. " }),
      "Each one signs you in once if you lose your phone. They are shown only this once."),
    h("ul", { class: "codes" }, codes.map((c) => h("li", {}, h("code", { text: c })))));
}

function newCodesForm() {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = codeInput();
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-labelledby": "codes-title" },
    h("h2", { id: "codes-title", text: "New recovery codes" }),
    h("p", {}, "Used some, or lost them? New codes replace the old ones, which stop working."),
    field("Password", password),
    field("Code", code, "From your authenticator app."),
    h("button", { type: "submit" }, "Get new recovery codes"), status.element);
  onSubmit(form, status, async () => {
    const { recovery_codes: codes } = await api("/auth/2fa/recovery-codes",
      { method: "POST", body: { password: password.value, code: code.value.trim() } });
    form.replaceWith(recoveryCodes(codes, "New recovery codes made; the old ones no longer work."));
  });
  return form;
}

function disableForm() {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = codeInput();
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-labelledby": "off-title" },
    h("h2", { id: "off-title", text: "Turn it off" }),
    h("p", {}, "Two-step sign-in is on."),
    field("Password", password),
    field("Code", code, "From your authenticator app, or a recovery code."),
    h("button", { type: "submit" }, "Turn off two-step sign-in"), status.element);
  onSubmit(form, status, async () => {
    await api("/auth/2fa/disable", { method: "POST", body: { password: password.value, code: code.value.trim() } });
    replace(form, h("p", { class: "status ok", role: "status", text: "Two-step sign-in is off." }));
  });
  return form;
}
