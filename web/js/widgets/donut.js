// Category shares as a donut: plain SVG, no library. Each slice is a link (to the transactions it counts);
// the legend beside it holds the same links with their amounts and shares, for the keyboard and for screen
// readers (the drawing itself is hidden from them: the legend and the caption say what it shows). Its
// fallback is a table of every category: the bars' data table where they are beside it, or its own
// (`table`, in a <details> as the charts of chart.js have).
//
// The geometry (slices, arcPath) is plain functions of numbers, tested in web/tests/donut.test.js.

import { h } from "../dom.js";
import { formatNumber } from "../format.js";
import { t } from "../i18n.js";

const TAU = 2 * Math.PI;
const SVG = "http://www.w3.org/2000/svg";

/** Colours told apart with the common colour-vision deficiencies (Okabe & Ito), then a grey for "other". */
export const DONUT_COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8a7a00"];
export const OTHER_COLOR = "#8c8c8c";

/**
 * The slices of a donut for `values` (integers, e.g. minor units): for each value above zero, in the order
 * given, its index in `values`, its share of the total (0..1) and its start and end angle in radians,
 * clockwise from twelve o'clock. Values of zero or less have no slice. The last slice ends at exactly 2π.
 */
export function slices(values) {
  const total = values.reduce((sum, v) => (v > 0 ? sum + v : sum), 0);
  if (total <= 0) return [];
  const result = [];
  let before = 0;
  values.forEach((value, index) => {
    if (value <= 0) return;
    const start = (before / total) * TAU;
    before += value;
    result.push({ index, value, share: value / total, start, end: before === total ? TAU : (before / total) * TAU });
  });
  return result;
}

/**
 * At most `limit` slices: the largest `limit - 1` items as they are, the rest added up into one "other"
 * item (`{ other: true, count, amount }`). Items are { amount, ... }; the order is largest first.
 */
export function largestWithOther(items, limit) {
  const sorted = items.filter((i) => i.amount > 0).sort((a, b) => b.amount - a.amount);
  if (sorted.length <= limit) return sorted;
  const rest = sorted.slice(limit - 1);
  return [...sorted.slice(0, limit - 1), { other: true, count: rest.length, amount: rest.reduce((s, i) => s + i.amount, 0) }];
}

const round = (n) => Math.round(n * 1000) / 1000;

/** A point at radius `r` and angle `a` (clockwise from twelve o'clock) around (cx, cy), rounded. */
export function pointAt(cx, cy, r, a) {
  return [round(cx + r * Math.sin(a)), round(cy - r * Math.cos(a))];
}

/**
 * The SVG path of a ring's sector between two angles (radians, clockwise from twelve o'clock), between the
 * radii `inner` and `outer`. A whole ring (one slice) is drawn as two halves: an arc whose ends meet draws
 * nothing.
 */
export function arcPath(cx, cy, outer, inner, start, end) {
  if (end - start >= TAU - 1e-9) {
    return `${arcPath(cx, cy, outer, inner, start, start + Math.PI)} ${arcPath(cx, cy, outer, inner, start + Math.PI, start + TAU)}`;
  }
  const large = end - start > Math.PI ? 1 : 0;
  const [x1, y1] = pointAt(cx, cy, outer, start);
  const [x2, y2] = pointAt(cx, cy, outer, end);
  const [x3, y3] = pointAt(cx, cy, inner, end);
  const [x4, y4] = pointAt(cx, cy, inner, start);
  return `M ${x1} ${y1} A ${outer} ${outer} 0 ${large} 1 ${x2} ${y2} L ${x3} ${y3} A ${inner} ${inner} 0 ${large} 0 ${x4} ${y4} Z`;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  element.append(...children);
  return element;
}

function sharePercent(share) {
  return `${formatNumber(share * 100, { minimumFractionDigits: 0, maximumFractionDigits: 1, useGrouping: false })} %`;
}

/**
 * A <figure> with the donut, its legend and a caption. `items` are { label, amount, href } (amount an
 * integer such as minor units, href where the slice leads); `money(amount)` formats an amount; at most
 * `limit` slices (the smallest are added up as "other", which leads nowhere: its categories are each in
 * the table). `title` and `summary` make the caption; `table` ({ columns: [name, amount] }) adds a table
 * of every item, each a link too.
 */
export function donutFigure({ title, summary, items, money, limit = 7, table = null }) {
  const shown = largestWithOther(items, limit);
  const parts = slices(shown.map((i) => i.amount));
  const size = 200;
  const centre = size / 2;
  const total = shown.reduce((sum, i) => sum + i.amount, 0);
  const drawing = svg("svg", { viewBox: `0 0 ${size} ${size}`, class: "donut-chart", "aria-hidden": "true", focusable: "false" });
  const legend = h("ul", { class: "donut-legend" });
  parts.forEach((part, n) => {
    const item = shown[part.index];
    const color = item.other ? OTHER_COLOR : DONUT_COLORS[n % DONUT_COLORS.length];
    const label = item.other ? t("donut.rest", { count: item.count }) : item.label;
    const text = `${label}: ${money(item.amount)} (${sharePercent(part.share)})`;
    const path = svg("path", { d: arcPath(centre, centre, 96, 58, part.start, part.end), fill: color },
      svg("title", {}, text));
    // The slices are for pointers; the legend's links are the same for the keyboard and screen readers.
    drawing.append(item.other ? path : svg("a", { href: item.href, tabindex: "-1" }, path));
    const swatch = svg("svg", { viewBox: "0 0 10 10", class: "swatch", "aria-hidden": "true", focusable: "false" },
      svg("rect", { width: 10, height: 10, rx: 2, fill: color }));
    legend.append(h("li", {}, swatch, item.other ? h("span", { text }) : h("a", { href: item.href, text })));
  });
  drawing.append(svg("text", { x: centre, y: centre, "text-anchor": "middle", "dominant-baseline": "central",
    class: "donut-total" }, money(total)));
  const all = table ? h("details", {}, h("summary", { text: t("reportPanel.showTable") }),
    h("div", { class: "table-scroll" }, h("table", {}, h("caption", { text: title }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: table.columns[0] }), h("th", { scope: "col", class: "num", text: table.columns[1] }))),
      h("tbody", {}, largestWithOther(items, Infinity).map((i) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: i.href, text: i.label })), h("td", { class: "num", text: money(i.amount) }))))))) : null;
  return h("figure", { class: "donut" },
    h("figcaption", {}, h("strong", { text: title }), summary ? h("span", { class: "hint block", text: summary }) : null),
    h("div", { class: "donut-body" }, drawing, legend), all);
}
