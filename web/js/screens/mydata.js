// #/my-data — download everything about you (one zip: auth's export with your profile, households,
// sessions and security log, plus the current household's full ledger, budgets and notifications), and
// delete your account. The client gathers the parts with your own token, so no service ever calls another
// on your behalf (docs/security.md, "Your data").

import { api, forgetSession } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { saveBlob } from "../widgets/files.js";

// Each part: file name in the zip, the API path, and whether the household may lack it (a service that
// is not deployed, or not answering, leaves a note instead of failing the whole download).
const PARTS = [
  ["account.json", "/auth/account/export"],
  ["ledger.json", "/ledger/exports/ledger.json"],
  ["budgets.json", "/budget/budgets"],
  ["notifications.json", "/notifier/notifications"],
];

export async function renderMyData(container, { navigate }) {
  container.append(h("div", { class: "grid" },
    h("div", { class: "column" }, exportCard()), h("div", { class: "column" }, deleteCard(navigate))));
}

function exportCard() {
  const status = statusLine();
  const form = h("form", { class: "card stack", "aria-labelledby": "export-title" },
    h("h1", { id: "export-title", text: t("myData.title") }),
    h("p", { text: t("myData.intro") }),
    h("button", { type: "submit", class: "primary" }, t("myData.download")), status.element);
  onSubmit(form, status, async () => {
    const files = [];
    const missing = [];
    for (const [name, path] of PARTS) {
      try {
        files.push([name, JSON.stringify(await api(path), null, 2)]);
      } catch (error) {
        if (name === "account.json") throw error;
        missing.push(`${name}: ${error.message}`);
      }
    }
    if (missing.length) files.push(["MISSING.txt", `${t("myData.missingFile")}\n${missing.join("\n")}\n`]);
    const blob = zip(files);
    saveBlob(blob, `tally-my-data-${today()}.zip`, { keepMs: 60_000 });
    status.ok(missing.length ? t("myData.downloadedWithout", { missing: missing.join("; ") }) : t("myData.downloaded"));
  });
  return form;
}

function deleteCard(navigate) {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = h("input", { type: "text", name: "code", autocomplete: "one-time-code", maxlength: 20, spellcheck: "false" });
  const sure = h("input", { type: "checkbox", name: "sure", required: true });
  const status = statusLine();
  const form = h("form", { class: "card stack", "aria-labelledby": "delete-title" },
    h("h2", { id: "delete-title", text: t("myData.deleteTitle") }),
    h("p", { text: t("myData.deleteIntro") }),
    field(t("myData.password"), password),
    field(t("myData.code"), code, t("myData.codeHint")),
    h("label", { class: "row-item" }, sure, t("myData.sure")),
    h("button", { type: "submit" }, t("myData.delete")), status.element);
  onSubmit(form, status, async () => {
    const body = { password: password.value };
    if (code.value.trim()) body.code = code.value.trim();
    await api("/auth/account/delete", { method: "POST", body });
    forgetSession();
    sessionStorage.setItem("tally.notice", t("myData.deleted"));
    navigate("/signin");
  });
  return form;
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

// --- a minimal zip writer: stored (uncompressed) entries, enough for a few JSON files --------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** [[name, text], …] → a zip Blob (UTF-8 names and contents, no compression). */
export function zip(files) {
  const encoder = new TextEncoder();
  const chunks = [];
  const central = [];
  let offset = 0;
  const now = new Date();
  const dosTime = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
  const dosDate = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  for (const [name, text] of files) {
    const nameBytes = encoder.encode(name);
    const data = encoder.encode(text);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true); // UTF-8 names
    local.setUint16(10, dosTime, true);
    local.setUint16(12, dosDate, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    chunks.push(local, nameBytes, data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x0800, true);
    entry.setUint16(12, dosTime, true);
    entry.setUint16(14, dosDate, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, data.length, true);
    entry.setUint32(24, data.length, true);
    entry.setUint16(28, nameBytes.length, true);
    entry.setUint32(42, offset, true);
    central.push(entry, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((sum, part) => sum + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...chunks, ...central, end], { type: "application/zip" });
}
