// What every home-screen panel is: a titled card with a status line, and its loader.

import { h, statusLine, uid } from "../dom.js";

/** A titled card. `body` is filled by the panel; `status` shows load errors. */
export function panel(title, { className = "" } = {}) {
  const titleId = uid("panel");
  const heading = h("h2", { id: titleId, text: title });
  const body = h("div", { class: "panel-body" });
  const status = statusLine();
  const element = h("section", { class: `card ${className}`.trim(), "aria-labelledby": titleId },
    heading, status.element, body);
  return { element, heading, body, status };
}

/** Runs a panel's loader, showing its error in the panel instead of throwing. */
export async function load(status, loader) {
  try {
    await loader();
    if (status.element.classList.contains("error")) status.clear();
  } catch (error) {
    status.error(error.message);
  }
}
