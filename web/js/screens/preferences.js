// #/preferences — which notifications reach you where (type × channel), quiet hours in your time zone,
// digest-only, and Web Push on this device.

import { api } from "../api.js";
import { h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";

/** The channels, with their names in the reader's language (read while rendering). */
function channelLabels() {
  return [["email", t("preferences.channel.email")], ["push", t("preferences.channel.push")],
    ["in_app", t("preferences.channel.inApp")], ["webhook", t("preferences.channel.webhook")]];
}

function base64UrlToBytes(text) {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** This browser's push registration: the worker that shows pushes (/sw.js imports /push-sw.js). */
async function pushRegistration() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return null;
  const existing = await navigator.serviceWorker.getRegistration("/");
  if (existing) return existing;
  try {
    await fetch("/sw.js", { method: "HEAD", cache: "no-store" }).then((r) => { if (!r.ok) throw new Error(); });
    return await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  } catch {
    return navigator.serviceWorker.register("/push-sw.js", { scope: "/" });
  }
}

function pushSection() {
  const status = statusLine();
  const state = h("p", { class: "muted", id: "push-state" });
  const button = h("button", { type: "button", id: "push-toggle" });
  const section = h("fieldset", { class: "stack" }, h("legend", { text: t("preferences.pushTitle") }),
    state, button, status.element);

  async function current() {
    const registration = await pushRegistration();
    return registration ? registration.pushManager.getSubscription() : null;
  }

  async function render() {
    if (!("PushManager" in window) || !window.isSecureContext) {
      state.textContent = t("preferences.pushUnsupportedHere");
      button.hidden = true;
      return;
    }
    const subscription = await current().catch(() => null);
    state.textContent = subscription ? t("preferences.pushOn") : t("preferences.pushOff");
    button.textContent = subscription ? t("preferences.turnOff") : t("preferences.turnOn");
    button.dataset.on = subscription ? "1" : "";
  }

  button.addEventListener("click", async () => {
    status.clear();
    button.disabled = true;
    try {
      const registration = await pushRegistration();
      if (!registration) throw new Error(t("preferences.pushUnsupported"));
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        const mine = await api("/notifier/push/subscriptions");
        const host = new URL(subscription.endpoint).hostname;
        await subscription.unsubscribe();
        // The server cannot tell devices on one push service apart by host alone: remove the newest of that host.
        const match = mine.filter((s) => s.endpoint_host === host).pop();
        if (match) await api(`/notifier/push/subscriptions/${encodeURIComponent(match.id)}`, { method: "DELETE" });
        status.ok(t("preferences.pushOff"));
      } else {
        if ((await Notification.requestPermission()) !== "granted") {
          throw new Error(t("preferences.blocked"));
        }
        const { public_key: key } = await api("/notifier/push/key");
        const created = await registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key),
        });
        await api("/notifier/push/subscriptions", { method: "POST", body: created.toJSON() });
        status.ok(t("preferences.pushOn"));
      }
    } catch (error) {
      status.error(error.message || t("preferences.pushFailed"));
    } finally {
      button.disabled = false;
      await render().catch(() => {});
    }
  });
  render().catch(() => {});
  return section;
}

export async function renderPreferences(container) {
  const status = statusLine();
  const form = h("form", { class: "stack", novalidate: true });
  container.append(h("section", { class: "card stack preferences", "aria-labelledby": "prefs-title" },
    h("h1", { id: "prefs-title", text: t("preferences.title") }), form, pushSection(),
    h("p", {}, h("a", { href: "#/notifications" }, t("preferences.notifications")), " · ",
      h("a", { href: "#/webhooks" }, t("preferences.webhooks")))));

  let prefs;
  const boxes = new Map();
  const quietOn = h("input", { type: "checkbox", id: "quiet-on" });
  const quietStart = h("input", { type: "time", id: "quiet-start", value: "22:00", required: true });
  const quietEnd = h("input", { type: "time", id: "quiet-end", value: "07:00", required: true });
  const digestOnly = h("input", { type: "checkbox", id: "digest-only" });

  function draw() {
    boxes.clear();
    const channelList = channelLabels();
    const rows = prefs.types.map((type) => h("tr", {},
      h("th", { scope: "row", text: type.label }),
      channelList.map(([channel, label]) => {
        const locked = type.locked.includes(channel);
        const box = h("input", { type: "checkbox", checked: type.channels[channel], disabled: locked,
          "aria-label": locked ? t("preferences.boxLocked", { type: type.label, channel: label })
            : t("preferences.box", { type: type.label, channel: label }), "data-type": type.type,
          "data-channel": channel });
        boxes.set(`${type.type}/${channel}`, box);
        return h("td", {}, box);
      })));
    quietOn.checked = prefs.quiet_hours !== null;
    if (prefs.quiet_hours) {
      quietStart.value = prefs.quiet_hours.start;
      quietEnd.value = prefs.quiet_hours.end;
    }
    digestOnly.checked = prefs.digest_only;
    replace(form,
      h("div", { class: "table-scroll" }, h("table", { class: "prefs-grid" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("preferences.notification") }),
          channelList.map(([, label]) => h("th", { scope: "col", text: label })))),
        h("tbody", {}, rows))),
      h("fieldset", { class: "stack" }, h("legend", { text: t("preferences.quietHours") }),
        h("label", {}, quietOn, ` ${t("preferences.quietOn")}`),
        h("div", { class: "row-item" },
          h("label", { for: "quiet-start", text: t("preferences.from") }), quietStart,
          h("label", { for: "quiet-end", text: t("preferences.to") }), quietEnd),
        h("small", { class: "hint", text: t("preferences.quietHint", { zone: prefs.time_zone }) })),
      h("label", {}, digestOnly, ` ${t("preferences.digestOnly")}`),
      status.element,
      h("button", { type: "submit", class: "primary" }, t("preferences.save")));
  }

  onSubmit(form, status, async () => {
    const channels = {};
    for (const type of prefs.types) {
      for (const [channel] of channelLabels()) {
        const box = boxes.get(`${type.type}/${channel}`);
        if (!box.disabled && box.checked !== type.channels[channel]) {
          (channels[type.type] ??= {})[channel] = box.checked;
        }
      }
    }
    const body = { channels, digest_only: digestOnly.checked };
    if (quietOn.checked) body.quiet_hours = { start: quietStart.value, end: quietEnd.value };
    else if (prefs.quiet_hours) body.clear_quiet_hours = true;
    prefs = await api("/notifier/preferences", { method: "PATCH", body });
    draw();
    status.ok(t("preferences.saved"));
  });

  try {
    prefs = await api("/notifier/preferences");
    draw();
  } catch (error) {
    status.error(error.message);
    form.append(status.element);
  }
}
