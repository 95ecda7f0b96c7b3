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

/** <option>s for a <select>, keeping the current choice when it still exists. */
export function fillSelect(select, options, placeholder = null) {
  const previous = select.value;
  select.replaceChildren();
  if (placeholder !== null) select.append(h("option", { value: "" }, placeholder));
  for (const { value, label } of options) select.append(h("option", { value }, label));
  if ([...select.options].some((option) => option.value === previous)) select.value = previous;
}
