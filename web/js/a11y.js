// Accessibility fixes that hold for every screen, applied as screens render, so each screen does not
// have to remember them:
// - a table in a sideways-scrolling box (`.table-scroll`, for wide tables on a phone) must be reachable
//   by keyboard to be scrolled (WCAG 2.1.1): the box becomes a focusable, named region.

import { t } from "./i18n.js";

function enhanceScrollBoxes(root) {
  for (const box of root.querySelectorAll(".table-scroll:not([tabindex])")) {
    box.tabIndex = 0;
    box.setAttribute("role", "region");
    const caption = box.querySelector("caption")?.textContent?.trim();
    box.setAttribute("aria-label", caption || t("a11y.scrollTable"));
  }
}

/** Watches `root` (the screen outlet) and applies the fixes to whatever screens put in it. */
export function watchAccessibility(root) {
  enhanceScrollBoxes(root);
  new MutationObserver(() => enhanceScrollBoxes(root)).observe(root, { childList: true, subtree: true });
}
