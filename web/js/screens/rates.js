// #/rates — exchange rates: the household's own figures, entered by hand or imported from a CSV of rates,
// and the net worth they give in the base currency today.

import { ApiError, api, humanMessage } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { formatMoney } from "../money.js";
import { currencyInput } from "../panels/panel.js";
import { ledgerNav } from "./ledger.js";

async function upload(path, form) {
  await api("/auth/me"); // refreshes the access token if it has expired
  let response;
  try {
    response = await fetch(`/api${path}`, { method: "POST", body: form, cache: "no-store", credentials: "same-origin",
      headers: { Authorization: `Bearer ${sessionStorage.getItem("tally.accessToken") ?? ""}` } });
  } catch {
    throw new ApiError(0, "Cannot reach Tally. Check your connection and try again.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, humanMessage(response.status, body), body);
  return body;
}

export async function renderRates(container) {
  const status = statusLine();
  const worth = h("p", { "aria-live": "polite" });
  const list = h("ul", { class: "rows" });
  container.append(ledgerNav("/rates"), h("h1", { text: "Exchange rates" }), status.element,
    h("section", { class: "card stack" }, h("h2", { text: "Net worth in your base currency" }), worth),
    h("section", { class: "card stack" }, h("h2", { text: "Rates" }),
      h("p", { class: "hint", text: "1 unit of the first currency is worth the rate in the second. A day without "
        + "a rate uses the latest one before it." }), list));

  async function load() {
    const [rates, net] = await Promise.all([api("/ledger/rates"), api("/ledger/net-worth")]);
    replace(list, rates.items.length ? rates.items.map((r) => h("li", { class: "row" },
      h("span", { text: formatDate(r.on) }), h("span", { text: `1 ${r.base} = ${r.rate} ${r.quote}` }),
      h("span", { class: "muted", text: r.source === "csv" ? "imported" : "entered" }),
      h("button", { type: "button", class: "small", onclick: async () => {
        try {
          await api(`/ledger/rates/${r.base}/${r.quote}/${r.on}`, { method: "DELETE" });
          status.ok("Deleted.");
        } catch (error) {
          status.error(error.message);
        }
        await load();
      } }, `Delete ${r.base}/${r.quote} of ${formatDate(r.on)}`)))
      : h("li", { class: "empty", text: "No rates yet." }));
    const c = net.converted;
    replace(worth, c ? [formatMoney(c.amount_minor, c.currency),
      c.missing_rates.length ? ` (without ${c.missing_rates.join(", ")}: no rate yet)` : ""]
      : "Your household has no base currency yet.");
  }

  const on = h("input", { type: "date", required: true, value: today() });
  const base = currencyInput("EUR");
  const quote = currencyInput("USD");
  const rate = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": "Enter a rate" }, h("h2", { text: "Enter a rate" }),
    h("div", { class: "row" }, field("Day", on), field("1 unit of", base), field("is worth", rate), field("of", quote)),
    h("button", { type: "submit", class: "primary" }, "Save rate"), formStatus.element);
  onSubmit(form, formStatus, async () => {
    const saved = await api("/ledger/rates", { method: "POST", body: { on: on.value,
      base: base.value.trim().toUpperCase(), quote: quote.value.trim().toUpperCase(), rate: rate.value.trim() } });
    formStatus.ok(`Saved 1 ${saved.base} = ${saved.rate} ${saved.quote} on ${formatDate(saved.on)}.`);
    await load();
  });

  const file = h("input", { type: "file", accept: ".csv,.txt,text/csv", required: true });
  const importStatus = statusLine();
  const importForm = h("form", { class: "stack", "aria-label": "Import rates" }, h("h2", { text: "Import a CSV of rates" }),
    field("File", file, "A header naming date, base (or from), quote (or to) and rate; comma, semicolon or tab."),
    h("button", { type: "submit" }, "Import"), importStatus.element);
  onSubmit(importForm, importStatus, async () => {
    if (!file.files?.length) return importStatus.error("Choose a file.");
    const body = new FormData();
    body.append("file", file.files[0]);
    const result = await upload("/ledger/rates/import", body);
    importStatus.ok(`Imported ${result.imported} rates.`);
    await load();
    return undefined;
  });
  container.append(h("section", { class: "card" }, form), h("section", { class: "card" }, importForm));
  await load().catch((error) => status.error(error.message));
  return undefined;
}
