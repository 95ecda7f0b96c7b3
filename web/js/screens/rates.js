// #/rates — exchange rates: the household's own figures, entered by hand or imported from a CSV of rates,
// and the net worth they give in the base currency today.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { fileRequest } from "../widgets/files.js";
import { currencyInput } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

async function upload(path, form) {
  return (await fileRequest(path, { method: "POST", form })).json().catch(() => null);
}

export async function renderRates(container) {
  const status = statusLine();
  const worth = h("p", { "aria-live": "polite" });
  const list = h("ul", { class: "rows" });
  container.append(ledgerNav("/rates"), h("h1", { text: t("rates.title") }), status.element,
    h("section", { class: "card stack" }, h("h2", { text: t("rates.netWorth") }), worth),
    h("section", { class: "card stack" }, h("h2", { text: t("rates.rates") }),
      h("p", { class: "hint", text: t("rates.hint") }), list));

  async function load() {
    const [rates, net] = await Promise.all([api("/ledger/rates"), api("/ledger/net-worth")]);
    replace(list, rates.items.length ? rates.items.map((r) => h("li", { class: "row" },
      h("span", { text: formatDate(r.on) }), h("span", { text: `1 ${r.base} = ${r.rate} ${r.quote}` }),
      h("span", { class: "muted", text: r.source === "csv" ? t("rates.imported") : t("rates.entered") }),
      h("button", { type: "button", class: "small", onclick: async () => {
        try {
          await api(`/ledger/rates/${r.base}/${r.quote}/${r.on}`, { method: "DELETE" });
          status.ok(t("rates.deleted"));
        } catch (error) {
          status.error(error.message);
        }
        await load();
      } }, t("rates.delete", { base: r.base, quote: r.quote, day: formatDate(r.on) }))))
      : h("li", { class: "empty", text: t("rates.empty") }));
    const c = net.converted;
    replace(worth, c ? [formatMoney(c.amount_minor, c.currency),
      c.missing_rates.length ? t("rates.withoutRates", { currencies: c.missing_rates.join(", ") }) : ""]
      : t("rates.noBaseCurrency"));
  }

  const on = h("input", { type: "date", required: true, value: today() });
  const base = currencyInput("EUR");
  const quote = currencyInput("USD");
  const rate = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("rates.enter") }, h("h2", { text: t("rates.enter") }),
    h("div", { class: "row" }, field(t("rates.day"), on), field(t("rates.unitOf"), base),
      field(t("rates.isWorth"), rate), field(t("rates.of"), quote)),
    h("button", { type: "submit", class: "primary" }, t("rates.save")), formStatus.element);
  onSubmit(form, formStatus, async () => {
    const saved = await api("/ledger/rates", { method: "POST", body: { on: on.value,
      base: base.value.trim().toUpperCase(), quote: quote.value.trim().toUpperCase(), rate: rate.value.trim() } });
    formStatus.ok(t("rates.saved", { base: saved.base, rate: saved.rate, quote: saved.quote, day: formatDate(saved.on) }));
    await load();
  });

  const file = h("input", { type: "file", accept: ".csv,.txt,text/csv", required: true });
  const importStatus = statusLine();
  const importForm = h("form", { class: "stack", "aria-label": t("rates.importLabel") },
    h("h2", { text: t("rates.importTitle") }),
    field(t("rates.file"), file, t("rates.fileHint")),
    h("button", { type: "submit" }, t("rates.import")), importStatus.element);
  onSubmit(importForm, importStatus, async () => {
    if (!file.files?.length) return importStatus.error(t("rates.chooseFile"));
    const body = new FormData();
    body.append("file", file.files[0]);
    const result = await upload("/ledger/rates/import", body);
    importStatus.ok(t("rates.importedCount", { count: result.imported }));
    await load();
    return undefined;
  });
  container.append(h("section", { class: "card" }, form), h("section", { class: "card" }, importForm));
  await load().catch((error) => status.error(error.message));
  return undefined;
}
