// #/webhooks — your webhooks: a URL that receives chosen notifications as signed JSON POSTs
// (header Tally-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the secret>), their
// delivery log, and switching them on, off or away.

import { api } from "../api.js";
import { attempt, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDateTime } from "../format.js";
import { t } from "../i18n.js";

export async function renderWebhooks(container) {
  const status = statusLine();
  const list = h("ul", { class: "rows", id: "webhook-list", "aria-live": "polite" });
  const secretBox = h("div", { class: "notice", hidden: true, role: "status" });
  const url = h("input", { type: "url", id: "webhook-url", required: true, maxlength: 2000,
    placeholder: "https://example.org/tally-hook", autocomplete: "off" });
  const description = h("input", { type: "text", id: "webhook-description", maxlength: 200 });
  const types = h("fieldset", { class: "stack" }, h("legend", { text: t("webhooks.types") }));
  const formStatus = statusLine();
  const form = h("form", { class: "stack", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "webhook-url", text: t("webhooks.url") }), url),
    h("div", { class: "field" }, h("label", { for: "webhook-description", text: t("webhooks.description") }), description),
    types, formStatus.element, h("button", { type: "submit", class: "primary" }, t("webhooks.submit")));

  container.append(h("section", { class: "card stack webhooks", "aria-labelledby": "webhooks-title" },
    h("h1", { id: "webhooks-title", text: t("webhooks.title") }),
    h("p", { class: "muted", text: t("webhooks.signature") }),
    status.element, list, secretBox, h("h2", { text: t("webhooks.addTitle") }), form,
    h("p", {}, h("a", { href: "#/preferences" }, t("webhooks.settings")))));

  function item(hook) {
    const log = h("ul", { class: "rows delivery-log", hidden: true });
    const toggle = h("button", { type: "button", class: "small" }, hook.enabled ? t("webhooks.turnOff") : t("webhooks.turnOn"));
    const remove = h("button", { type: "button", class: "small danger" }, t("webhooks.delete"));
    const showLog = h("button", { type: "button", class: "small" }, t("webhooks.log"));
    toggle.addEventListener("click", () => act(() => api(`/notifier/webhooks/${hook.id}`,
      { method: "PATCH", body: { enabled: !hook.enabled } })));
    remove.addEventListener("click", () => {
      if (window.confirm(t("webhooks.deleteConfirm", { url: hook.url }))) act(() => api(`/notifier/webhooks/${hook.id}`, { method: "DELETE" }));
    });
    showLog.addEventListener("click", async () => {
      if (!log.hidden) {
        log.hidden = true;
        return;
      }
      try {
        const { items } = await api(`/notifier/webhooks/${hook.id}/deliveries`);
        replace(log, items.length ? items.map((d) => h("li", { class: `delivery ${d.status}` },
          h("strong", { text: d.status }), ` ${d.type} · ${t("webhooks.attempts", { count: d.attempts })} · `,
          formatDateTime(d.created_at), d.last_error ? h("small", { class: "block muted", text: d.last_error }) : null))
          : h("li", { class: "empty", text: t("webhooks.nothingSent") }));
        log.hidden = false;
      } catch (error) {
        status.error(error.message);
      }
    });
    return h("li", { class: "stack" },
      h("div", { class: "row-item" },
        h("span", { class: "grow" },
          h("strong", { class: "block", text: hook.url }),
          h("span", { class: "muted", text: `${hook.description ? `${hook.description} · ` : ""}${hook.event_types.join(", ")}` }),
          hook.enabled ? null : h("small", { class: "block error", text: hook.disabled_reason || t("webhooks.turnedOff") })),
        showLog, toggle, remove),
      log);
  }

  const act = (action) => attempt(status, async () => {
    await action();
    await load();
  });

  async function load() {
    const hooks = await api("/notifier/webhooks");
    replace(list, hooks.length ? hooks.map(item) : h("li", { class: "empty", text: t("webhooks.empty") }));
  }

  onSubmit(form, formStatus, async () => {
    const chosen = [...types.querySelectorAll("input:checked")].map((box) => box.value);
    if (!url.value.trim()) throw new Error(t("webhooks.urlMissing"));
    if (chosen.length === 0) throw new Error(t("webhooks.typesMissing"));
    const created = await api("/notifier/webhooks", { method: "POST",
      body: { url: url.value.trim(), event_types: chosen, description: description.value.trim() } });
    replace(secretBox, h("p", {}, t("webhooks.secret")),
      h("code", { id: "webhook-secret", text: created.secret }));
    secretBox.hidden = false;
    form.reset();
    await load();
  });

  try {
    const prefs = await api("/notifier/preferences");
    types.append(...prefs.types.map((type) => h("label", {},
      h("input", { type: "checkbox", value: type.type, name: "event_types" }), ` ${type.label}`)));
    await load();
  } catch (error) {
    status.error(error.message);
  }
}
