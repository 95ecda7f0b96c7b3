import { formatLocale } from "./i18n.js";

// Money is an integer number of minor units plus an ISO 4217 currency code. Never a float:
// typed amounts are parsed as strings, and formatting hands Intl an exact decimal string.

/** How many decimal digits a currency's minor unit has (USD 2, JPY 0, KWD 3). */
export function minorDigits(currency) {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
}

/**
 * Parses what a person typed ("12.50", "12,5", "1 200", "-3") into integer minor units.
 * Returns { ok: true, minor } or { ok: false, error } with a sentence to show next to the field.
 */
export function parseAmount(text, digits, { allowNegative = false, allowZero = false } = {}) {
  const compact = String(text ?? "").trim().replace(/[\s_']/g, "");
  if (compact === "") return { ok: false, error: "Enter an amount." };
  const match = /^([+-]?)(\d*)(?:[.,](\d*))?$/.exec(compact);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) {
    return { ok: false, error: `Enter a number like ${example(digits)}.` };
  }
  const [, sign, whole, fraction = ""] = match;
  if (fraction.length > digits) {
    return {
      ok: false,
      error: digits === 0 ? "This currency has no decimal places." : `Use at most ${digits} decimal places.`,
    };
  }
  const digitsOnly = (whole + fraction.padEnd(digits, "0")).replace(/^0+(?=\d)/, "");
  const magnitude = Number(digitsOnly); // an integer string: exact while it is a safe integer
  if (!Number.isSafeInteger(magnitude)) return { ok: false, error: "That amount is too large." };
  const minor = sign === "-" ? -magnitude : magnitude;
  if (minor < 0 && !allowNegative) return { ok: false, error: "Enter a positive amount." };
  if (minor === 0 && !allowZero) return { ok: false, error: "Enter an amount greater than zero." };
  return { ok: true, minor: minor === 0 ? 0 : minor };
}

function example(digits) {
  return digits === 0 ? "1200" : `12.${"5".padEnd(digits, "0")}`;
}

/** Integer minor units → exact decimal string ("-1250", 2 → "-12.50"). */
export function toDecimalString(minor, digits) {
  if (!Number.isSafeInteger(minor)) throw new TypeError(`not an amount in minor units: ${minor}`);
  const sign = minor < 0 ? "-" : "";
  const text = String(Math.abs(minor)).padStart(digits + 1, "0");
  if (digits === 0) return sign + text;
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * Formats minor units in the reader's locale, e.g. formatMoney(1250, "EUR") → "€12.50" in English and
 * "12,50 €" in German (the locale chosen by i18n.js unless one is given).
 */
export function formatMoney(minor, currency, locale = formatLocale()) {
  const digits = minorDigits(currency);
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl formats decimal strings exactly (no binary floating point in between).
  return format.format(toDecimalString(minor, digits));
}
