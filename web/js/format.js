// Dates and labels shown on screen (money lives in money.js), in the locale chosen by i18n.js.

import { formatLocale } from "./i18n.js";

const pad = (n) => String(n).padStart(2, "0");

/** Today's date in the reader's time zone, as YYYY-MM-DD (what <input type=date> and the API use). */
export function today(now = new Date()) {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** This month in the reader's time zone, as YYYY-MM. */
export function thisMonth(now = new Date()) {
  return today(now).slice(0, 7);
}

/** "2025-03-07" → "7 Mar 2025" (in the reader's locale), without shifting the day across time zones. */
export function formatDate(isoDate) {
  const [year, month, day] = String(isoDate).split("-").map(Number);
  if (!year || !month || !day) return String(isoDate);
  return new Intl.DateTimeFormat(formatLocale(), { dateStyle: "medium" }).format(new Date(year, month - 1, day));
}

/** "2025-03" → "March 2025". */
export function formatMonth(isoMonth) {
  const [year, month] = String(isoMonth).split("-").map(Number);
  if (!year || !month) return String(isoMonth);
  return new Intl.DateTimeFormat(formatLocale(), { month: "long", year: "numeric" }).format(new Date(year, month - 1, 1));
}

export function formatDateTime(isoDateTime) {
  const date = new Date(isoDateTime);
  if (Number.isNaN(date.getTime())) return String(isoDateTime);
  return new Intl.DateTimeFormat(formatLocale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A plain number in the reader's locale ("1,234.5" / "1.234,5"). */
export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(formatLocale(), options).format(value);
}
