// #/two-factor — turn two-step sign-in (TOTP) on with a QR code and a confirming code, keep the
// recovery codes (shown once), get new recovery codes, or turn it off — both with the password and a code.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";

export async function renderTwoFactor(container) {
  const card = h("section", { class: "card narrow stack", "aria-labelledby": "tfa-title" },
    h("h1", { id: "tfa-title", text: t("twoFactor.title") }));
  container.append(card);
  try {
    const me = await api("/auth/me");
    if (me.two_factor_enabled) card.append(newCodesForm(), disableForm());
    else card.append(startEnrolment());
  } catch (error) {
    card.append(h("p", { class: "status error", role: "alert", text: error.message }));
  }
  card.append(h("p", {}, h("a", { href: "#/security" }, t("twoFactor.back"))));
}

function codeInput() {
  return h("input", { type: "text", name: "code", autocomplete: "one-time-code", required: true, maxlength: 20,
    spellcheck: "false" });
}

function startEnrolment() {
  const status = statusLine();
  const form = h("form", { class: "stack" },
    h("p", {}, t("twoFactor.intro")),
    h("button", { type: "submit", class: "primary" }, t("twoFactor.setUp")), status.element);
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
    h("p", {}, t("twoFactor.scan")),
    h("img", { class: "qr", src: setup.qr_svg, alt: t("twoFactor.qrAlt"), width: 220, height: 220 }),
    h("p", { class: "hint" }, t("twoFactor.cannotScan"), h("code", { text: setup.secret })),
    field(t("twoFactor.codeFromApp"), code),
    h("button", { type: "submit", class: "primary" }, t("twoFactor.turnOn")), status.element);
  onSubmit(form, status, async () => {
    const { recovery_codes: codes } = await api("/auth/2fa/enable", { method: "POST", body: { code: code.value.trim() } });
    form.replaceWith(recoveryCodes(codes));
  });
  queueMicrotask(() => code.focus());
  return form;
}

function recoveryCodes(codes, note = t("twoFactor.isOn")) {
  return h("div", { class: "stack" },
    h("p", { class: "status ok", role: "status", text: note }),
    h("p", {}, h("strong", { text: t("twoFactor.keepSafe") }),
      t("twoFactor.shownOnce")),
    h("ul", { class: "codes" }, codes.map((c) => h("li", {}, h("code", { text: c })))));
}

function newCodesForm() {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = codeInput();
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-labelledby": "codes-title" },
    h("h2", { id: "codes-title", text: t("twoFactor.newCodesTitle") }),
    h("p", {}, t("twoFactor.newCodesIntro")),
    field(t("twoFactor.password"), password),
    field(t("twoFactor.code"), code, t("twoFactor.codeHint")),
    h("button", { type: "submit" }, t("twoFactor.getNewCodes")), status.element);
  onSubmit(form, status, async () => {
    const { recovery_codes: codes } = await api("/auth/2fa/recovery-codes",
      { method: "POST", body: { password: password.value, code: code.value.trim() } });
    form.replaceWith(recoveryCodes(codes, t("twoFactor.newCodesMade")));
  });
  return form;
}

function disableForm() {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = codeInput();
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-labelledby": "off-title" },
    h("h2", { id: "off-title", text: t("twoFactor.offTitle") }),
    h("p", {}, t("twoFactor.isOn")),
    field(t("twoFactor.password"), password),
    field(t("twoFactor.code"), code, t("twoFactor.codeOrRecoveryHint")),
    h("button", { type: "submit" }, t("twoFactor.turnOff")), status.element);
  onSubmit(form, status, async () => {
    await api("/auth/2fa/disable", { method: "POST", body: { password: password.value, code: code.value.trim() } });
    replace(form, h("p", { class: "status ok", role: "status", text: t("twoFactor.isOff") }));
  });
  return form;
}
