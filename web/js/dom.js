// Builds DOM nodes. Text is always set as text (never parsed as HTML), so user data cannot inject markup.

/**
 * h("button", { class: "primary", type: "submit", onclick: fn }, "Save") → <button>.
 * Attributes: `class`, `text`, `on<event>` handlers, booleans (true → present, false/null → absent), others as
 * attributes. Children: nodes, strings (as text nodes), arrays, null/false (skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "text") {
      element.textContent = String(value);
    } else if (name === "value") {
      element.value = String(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;

/** A unique id to tie a <label> to its control. */
export function uid(prefix = "f") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled form field: the control gets an id and the label points at it; `hint` is announced too. */
export function field(labelText, control, hint = null) {
  control.id ||= uid();
  const parts = [h("label", { for: control.id, text: labelText }), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint", text: hint }));
  }
  return h("div", { class: "field" }, parts);
}

/** A status line for a form: shows errors (role=alert) or confirmations. */
export function statusLine() {
  const line = h("p", { class: "status", role: "status", "aria-live": "polite" });
  return {
    element: line,
    error(message) {
      line.className = "status error";
      line.textContent = message;
    },
    ok(message) {
      line.className = "status ok";
      line.textContent = message;
    },
    clear() {
      line.className = "status";
      line.textContent = "";
    },
  };
}

/** Runs `action` (a button's, a screen's first load): clears `status`, shows there the message of what it throws. */
export async function attempt(status, action) {
  status.clear();
  try {
    await action();
  } catch (error) {
    status.error(error.message);
  }
}

/**
 * Handles a form's submit without a page load: clears `status`, runs `action` with the buttons disabled (a
 * double click sends nothing twice) and shows the message of anything it throws in `status`.
 */
export function onSubmit(form, status, action) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.clear();
    busy(form, action).catch((error) => status.error(error.message));
  });
}

async function busy(form, action) {
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
    form.removeAttribute("aria-busy");
  }
}
