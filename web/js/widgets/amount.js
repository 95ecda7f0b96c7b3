// A transaction's amount with its sign, and an amount as a node coloured by it.

import { h } from "../dom.js";
import { formatMoney } from "../money.js";

/** The amount as it moved `account_id` (or, without one, expense negative, income positive). */
export function signedAmount(t, accountId = null) {
  if (t.kind === "income") return t.amount_minor;
  if (t.kind === "transfer" && accountId && t.counter_account_id === accountId) return t.amount_minor;
  return -t.amount_minor;
}

export function amountNode(minor, currency, neutral = false) {
  const tone = neutral ? "" : minor < 0 ? "negative" : "positive";
  return h("span", { class: `amount ${tone}`.trim(), text: formatMoney(minor, currency) });
}
