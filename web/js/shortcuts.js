// Keyboard shortcuts, and the overlay that lists them ("?"). Single keys, or "g" then a key to go to a
// screen (as in many web apps). They never fire while typing in a field or with Ctrl/Alt/Meta held, so
// they do not get in the way of the browser's or a screen reader's own keys.
//
// After the first key of a two-key shortcut the page says so (which keys may follow, and that Esc cancels)
// and waits for the next key, however long that takes: no timer decides for the person (nor for a slow
// machine, where a timer ran out between "g" and "t"). Any other key, Esc, a click, or typing in a field
// cancels it.
//
// A screen may add its own: addShortcut("e", "shortcuts.edit", () => …) (remove it in its cleanup).

import { h } from "./dom.js";
import { t } from "./i18n.js";

const shortcuts = new Map(); // "g t" → { label, action }
const MODIFIERS = new Set(["Shift", "Control", "Alt", "AltGraph", "Meta", "CapsLock", "Fn"]);

export function addShortcut(keys, label, action) {
  shortcuts.set(keys, { label, action });
  return () => shortcuts.delete(keys);
}

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return target.isContentEditable || Boolean(target.closest("input, textarea, select, [contenteditable]"));
}

let dialog = null;

function showHelp() {
  dialog?.remove();
  const rows = [...shortcuts].map(([keys, { label }]) => h("tr", {},
    h("th", { scope: "row" }, keys.split(" ").map((key, index) => [index ? ` ${t("shortcuts.then")} ` : null,
      h("kbd", { text: key })])),
    h("td", { text: t(label) })));
  const close = h("button", { type: "button", class: "close", onclick: () => dialog.close() }, t("shortcuts.close"));
  dialog = h("dialog", { class: "shortcuts", "aria-labelledby": "shortcuts-title" },
    h("h2", { id: "shortcuts-title", text: t("shortcuts.title") }),
    h("table", {}, h("caption", { class: "visually-hidden", text: t("shortcuts.title") }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("shortcuts.keys") }),
        h("th", { scope: "col", text: t("shortcuts.action") }))),
      h("tbody", {}, rows)),
    close);
  dialog.addEventListener("close", () => { dialog.remove(); dialog = null; });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

function focusSearch() {
  const search = document.querySelector("main input[type=search], main input[name=q]");
  if (!search) return false;
  search.focus();
  search.select?.();
  return true;
}

/** Installs the default shortcuts and listens for keys. `navigate(path)` changes the screen. */
export function installShortcuts({ navigate }) {
  addShortcut("?", "shortcuts.help", showHelp);
  addShortcut("n", "shortcuts.newEntry", () => navigate("/?add=1"));
  addShortcut("/", "shortcuts.search", () => focusSearch() || navigate("/transactions"));
  addShortcut("g h", "shortcuts.goHome", () => navigate("/"));
  addShortcut("g t", "shortcuts.goTransactions", () => navigate("/transactions"));
  addShortcut("g i", "shortcuts.goImport", () => navigate("/import"));
  addShortcut("g s", "shortcuts.goSecurity", () => navigate("/security"));

  let pending = null; // the first key of a two-key shortcut, while the next one is awaited
  let hint = null; // the line saying so

  function cancelPending() {
    pending = null;
    hint?.remove();
    hint = null;
  }

  function awaitSecondKey(first) {
    pending = first;
    const next = [...shortcuts].filter(([keys]) => keys.startsWith(`${first} `))
      .map(([keys, { label }], index) => [index ? ", " : null, h("kbd", { text: keys.slice(first.length + 1) }),
        ` ${t(label)}`]);
    hint = h("p", { class: "shortcut-pending", role: "status", "data-pending": first },
      h("kbd", { text: first }), ` ${t("shortcuts.then")}: `, next, `. ${t("shortcuts.cancel")}`);
    document.body.append(hint);
  }

  document.addEventListener("keydown", (event) => {
    if (MODIFIERS.has(event.key)) return; // Shift on its way to "?" is not a key of its own
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) {
      cancelPending();
      return;
    }
    if (dialog && event.key !== "?") return; // the open dialog handles its own keys (Esc closes it)
    const keys = pending ? `${pending} ${event.key}` : event.key;
    const wasPending = pending !== null;
    cancelPending();
    const shortcut = shortcuts.get(keys);
    if (shortcut) {
      event.preventDefault();
      shortcut.action();
      return;
    }
    if (wasPending) {
      if (event.key === "Escape") event.preventDefault();
      return; // the second key was no shortcut: that ends it (it does not start another)
    }
    if ([...shortcuts.keys()].some((known) => known.startsWith(`${event.key} `))) {
      event.preventDefault();
      awaitSecondKey(event.key);
    }
  });
  // A click, or the focus going into a field, ends a half-typed shortcut too.
  document.addEventListener("pointerdown", cancelPending);
  document.addEventListener("focusin", (event) => { if (isTyping(event.target)) cancelPending(); });
}
