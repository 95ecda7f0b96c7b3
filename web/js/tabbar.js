// The phone's bottom bar (styles hide it above 640 px, where the top menu shows instead): the places used
// every day, "More" for the rest of the main menu, and an "Add" button that opens the entry form from any
// screen in one tap. Built from the same NAV list as the top menu, so both always offer the same screens.

import { h, replace } from "./dom.js";
import { t } from "./i18n.js";

const MORE_ID = "tabbar-more";

/**
 * Draws the bar into `bar`. `nav`: [{ path, label, bar }] (`bar`: its place in the bar itself; the rest go
 * under More); `here`: the current path; `extras()`: fresh nodes for the end of More (language, sign out);
 * `navigate(path)`: changes the screen.
 */
export function renderTabBar(bar, { nav, here, extras, navigate }) {
  const link = ({ path, label }) => h("a", { href: `#${path}`, "aria-current": path === here ? "page" : null },
    t(label));
  const rest = nav.filter((item) => !item.bar);
  const more = h("div", { id: MORE_ID, class: "tabbar-more", hidden: true },
    h("ul", { class: "stack" }, rest.map((item) => h("li", {}, link(item))),
      extras().map((node) => h("li", {}, node))));
  const inMore = rest.some((item) => item.path === here);
  const toggle = h("button", { type: "button", class: "tab", "aria-expanded": "false", "aria-controls": MORE_ID,
    "aria-current": inMore ? "page" : null }, t("nav.more"));
  const open = (shown) => {
    more.hidden = !shown;
    toggle.setAttribute("aria-expanded", String(shown));
  };
  toggle.addEventListener("click", () => {
    open(more.hidden);
    if (!more.hidden) more.querySelector("a")?.focus();
  });
  more.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    open(false);
    toggle.focus();
  });
  // The same hash again (already on the form) still draws the home screen anew, which focuses the amount.
  const add = h("a", { href: "#/?add=1", class: "tabbar-add",
    onclick: (event) => { event.preventDefault(); navigate("/?add=1"); } },
  h("span", { "aria-hidden": "true", text: "+" }), " ", t("nav.add"));
  replace(bar, more, add,
    h("ul", { class: "tabs" }, nav.filter((item) => item.bar).sort((a, b) => a.bar - b.bar).map((item) => h("li", {}, link(item))),
      h("li", {}, toggle)));
}
