// The sub-navigation between the ledger screens.

import { h } from "../dom.js";
import { t } from "../i18n.js";

/** A sub-navigation between the ledger screens. */
export function ledgerNav(current) {
  const links = [["/transactions", t("ledger.transactions")], ["/categorise", t("ledger.categorise")],
    ["/accounts", t("ledger.accounts")],
    ["/categories", t("ledger.categories")], ["/recurring", t("ledger.recurring")], ["/rules", t("ledger.rules")],
    ["/rates", t("ledger.rates")]];
  return h("nav", { "aria-label": t("ledger.nav") }, links.map(([path, label], n) => [n ? " · " : null,
    h("a", { href: `#${path}`, "aria-current": path === current ? "page" : null }, label)]));
}
