// Shared by the reports screen and the dashboard.

/** Where a report line leads: the transactions screen searching for what the line counted. */
export function drillDown(period, line, by = "category") {
  const end = new Date(`${period.end}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  const terms = [`after:${period.start}`, `before:${end.toISOString().slice(0, 10)}`];
  if (by === "category" && line.category_id) terms.push(`category:"${line.label}"`);
  if (by === "payee" && line.key) terms.push(`payee:"${line.key}"`);
  if (by === "tag") terms.push(`tag:${line.key}`);
  return `#/transactions?q=${encodeURIComponent(terms.join(" "))}`;
}
