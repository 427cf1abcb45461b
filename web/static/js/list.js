// 記録一覧: the department's recordings with filters, search, paging and live progress.
import {
  KIND_LABELS,
  STATUS_LABELS,
  announce,
  api,
  debounce,
  errorText,
  escapeHtml,
  formatDateTime,
  formatDuration,
  initLayout,
  people,
  progressPhrase,
  showMessage,
} from "./common.js";

initLayout();

const LIMIT = 50;
const ACTIVE = new Set(["queued", "running"]);
const POLL_MS = 2000;

const form = document.getElementById("filters");
const rows = document.getElementById("rows");
const countLine = document.getElementById("list-count");
const errorBox = document.getElementById("list-error");
const empty = document.getElementById("empty");
const prev = document.getElementById("prev");
const next = document.getElementById("next");
const pageInfo = document.getElementById("page-info");

let offset = 0;
let shownIds = "";
let pollTimer = 0;
let names = { users: {}, devices: {} };
let loading = 0;

// --- filters <-> URL ---------------------------------------------------------------------------

const FIELDS = ["q", "kind", "status", "since", "until"];

function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) form.elements[name].value = params.get(name) || "";
  offset = Math.max(0, Number.parseInt(params.get("offset") || "0", 10) || 0);
}

function writeUrl() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  if (offset) params.set("offset", String(offset));
  const query = params.toString();
  history.replaceState(null, "", query ? `/?${query}` : "/");
}

function tokyoDayStart(day, plusDays = 0) {
  const date = new Date(`${day}T00:00:00+09:00`);
  if (Number.isNaN(date.getTime())) return "";
  return new Date(date.getTime() + plusDays * 86400000).toISOString();
}

function apiQuery() {
  const params = new URLSearchParams({ limit: String(LIMIT), offset: String(offset) });
  const q = form.elements.q.value.trim();
  if (q) params.set("q", q);
  for (const name of ["kind", "status"]) {
    if (form.elements[name].value) params.set(name, form.elements[name].value);
  }
  const since = form.elements.since.value;
  const until = form.elements.until.value;
  if (since && tokyoDayStart(since)) params.set("since", tokyoDayStart(since));
  if (until && tokyoDayStart(until, 1)) params.set("until", tokyoDayStart(until, 1));
  return params.toString();
}

// --- rendering -----------------------------------------------------------------------------------

function statusHtml(item) {
  const status = item.status || "queued";
  const label = STATUS_LABELS[status] || status;
  let html = `<span class="badge badge-${escapeHtml(status)}">${escapeHtml(label)}</span>`;
  if (status === "running") {
    const percent = Math.round((item.progress || 0) * 100);
    const note = item.cancel_requested ? "(取り消し中)" : "";
    html +=
      `<span class="progress-line"><progress max="100" value="${percent}" aria-label="${escapeHtml(item.title)}の処理の進み具合">${percent}%</progress>` +
      `<span class="progress-text">${escapeHtml(progressPhrase(item.stage, item.progress))}${note}</span></span>`;
  } else if (status === "queued") {
    html += `<span class="progress-text">まもなく始まります</span>`;
  } else if (status === "failed" && item.error) {
    html += `<span class="status-error">${escapeHtml(item.error)}</span>`;
  }
  // e.g. a relabel that failed: the transcript is there as before, with a word on what happened.
  if (item.notice) html += `<span class="progress-text">${escapeHtml(item.notice)}</span>`;
  return html;
}

function uploader(item) {
  if (item.uploaded_by_id != null) return names.users[String(item.uploaded_by_id)] || "—";
  if (item.device_id != null) return names.devices[String(item.device_id)] || "録音機";
  return "—";
}

function actionsHtml(item) {
  const title = escapeHtml(item.title);
  let html = `<a class="btn btn-small" href="/recordings/${item.id}" aria-label="${title}を開く">開く</a>`;
  if (ACTIVE.has(item.status)) {
    html += ` <button class="btn btn-small" type="button" data-action="cancel" data-id="${item.id}" aria-label="${title}の処理を取り消す">取り消し</button>`;
  }
  html += ` <button class="btn btn-small btn-danger-quiet" type="button" data-action="delete" data-id="${item.id}" aria-label="${title}を削除">削除</button>`;
  return html;
}

function whenHtml(item) {
  if (item.held_at) return escapeHtml(formatDateTime(item.held_at));
  return `${escapeHtml(formatDateTime(item.created_at))}<span class="sub">(登録)</span>`;
}

function rowHtml(item) {
  return (
    `<tr data-id="${item.id}">` +
    `<td class="col-title"><a href="/recordings/${item.id}">${escapeHtml(item.title || "(無題)")}</a>` +
    (item.original_filename ? `<span class="sub">${escapeHtml(item.original_filename)}</span>` : "") +
    `</td>` +
    `<td data-label="種類">${escapeHtml(KIND_LABELS[item.kind] || item.kind)}</td>` +
    `<td class="nowrap" data-label="日時">${whenHtml(item)}</td>` +
    `<td class="num nowrap" data-cell="duration" data-label="長さ">${item.duration_seconds ? escapeHtml(formatDuration(item.duration_seconds)) : "—"}</td>` +
    `<td class="col-status" data-cell="status">${statusHtml(item)}</td>` +
    `<td data-label="登録した人">${escapeHtml(uploader(item))}</td>` +
    `<td class="actions nowrap" data-cell="actions">${actionsHtml(item)}</td>` +
    `</tr>`
  );
}

function render(data) {
  const items = data.items || [];
  const ids = items.map((i) => `${i.id}:${i.status}`).join(",");
  if (ids === shownIds) {
    // Same rows: update the cells that move (progress), keep focus and scroll where they are.
    for (const item of items) {
      const row = rows.querySelector(`tr[data-id="${item.id}"]`);
      if (!row) continue;
      row.querySelector('[data-cell="status"]').innerHTML = statusHtml(item);
      const duration = row.querySelector('[data-cell="duration"]');
      duration.textContent = item.duration_seconds ? formatDuration(item.duration_seconds) : "—";
    }
  } else {
    const focusedId = document.activeElement?.closest?.("tr")?.dataset?.id;
    const hadFocus = document.activeElement?.dataset?.action || (document.activeElement?.tagName === "A" ? "a" : "");
    rows.innerHTML = items.map(rowHtml).join("");
    if (focusedId && hadFocus) {
      const row = rows.querySelector(`tr[data-id="${focusedId}"]`);
      row?.querySelector("a")?.focus();
    }
    shownIds = ids;
  }
  const total = data.total || 0;
  const filtered = FIELDS.some((name) => form.elements[name].value.trim());
  countLine.textContent = total
    ? `${total} 件${filtered ? "(絞り込み中)" : ""}`
    : "";
  empty.hidden = total > 0;
  if (!total) {
    empty.innerHTML = filtered
      ? "条件に合う記録はありません。条件を変えるか、「条件をクリア」を押してください。"
      : 'まだ記録がありません。<a href="/upload">アップロード</a>から録音を登録してください。';
  }
  const from = total ? offset + 1 : 0;
  const to = Math.min(offset + LIMIT, total);
  pageInfo.textContent = total > LIMIT ? `${from}–${to} 件目 / ${total} 件` : "";
  prev.disabled = offset === 0;
  next.disabled = offset + LIMIT >= total;
  prev.hidden = next.hidden = total <= LIMIT;
}

async function load({ quiet = false } = {}) {
  clearTimeout(pollTimer);
  const ticket = ++loading;
  try {
    const [data, found] = await Promise.all([api(`/api/v1/recordings?${apiQuery()}`), people()]);
    names = found;
    if (ticket !== loading) return; // a newer search answered first
    showMessage(errorBox, "");
    render(data);
    if ((data.items || []).some((item) => ACTIVE.has(item.status))) {
      pollTimer = setTimeout(() => load({ quiet: true }), POLL_MS);
    }
  } catch (error) {
    if (ticket !== loading) return;
    showMessage(errorBox, errorText(error));
    if (quiet) pollTimer = setTimeout(() => load({ quiet: true }), POLL_MS * 3);
  }
}

// --- events --------------------------------------------------------------------------------------

function filtersChanged() {
  offset = 0;
  writeUrl();
  load();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  filtersChanged();
});
form.elements.q.addEventListener("input", debounce(filtersChanged, 300));
for (const name of ["kind", "status", "since", "until"]) {
  form.elements[name].addEventListener("change", filtersChanged);
}
document.getElementById("f-clear").addEventListener("click", () => {
  for (const name of FIELDS) form.elements[name].value = "";
  filtersChanged();
  form.elements.q.focus();
});
prev.addEventListener("click", () => {
  offset = Math.max(0, offset - LIMIT);
  writeUrl();
  load();
});
next.addEventListener("click", () => {
  offset += LIMIT;
  writeUrl();
  load();
});

rows.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = button.dataset.id;
  const row = button.closest("tr");
  const title = row.querySelector(".col-title a")?.textContent || "";
  if (button.dataset.action === "delete") {
    const ok = confirm(
      `「${title}」を削除します。\n録音・文字起こし・議事録がすべて消え、元に戻せません。よろしいですか?`,
    );
    if (!ok) return;
    button.disabled = true;
    try {
      await api(`/api/v1/recordings/${id}`, { method: "DELETE" });
      announce(`「${title}」を削除しました。`);
      shownIds = "";
      load();
    } catch (error) {
      button.disabled = false;
      showMessage(errorBox, errorText(error));
    }
  } else if (button.dataset.action === "cancel") {
    if (!confirm(`「${title}」の文字起こしを取り消しますか?`)) return;
    button.disabled = true;
    try {
      await api(`/api/v1/recordings/${id}/cancel`, { method: "POST" });
      announce(`「${title}」の処理を取り消しました。`);
      load();
    } catch (error) {
      button.disabled = false;
      showMessage(errorBox, errorText(error));
    }
  }
});

readUrl();
load();
