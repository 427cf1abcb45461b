// 検索: full-text search over the department's transcripts and minutes (GET /api/v1/search).
// The query lives in the URL (?q=, &offset=), so back/forward and bookmarks give the same results.
// Every piece of record text is put in the page as text nodes (never as HTML): snippets are the
// records themselves and may hold anything.
import { KIND_LABELS, api, errorText, formatClock, formatDateTime, h, initLayout, showMessage } from "./common.js";

initLayout();

const LIMIT = 20;
const MAX_OFFSET = 1000; // the API's limit
// Labels of the header fields a match may be in (the minutes' 記録の情報).
const FIELD_LABELS = {
  title: "タイトル",
  place: "場所",
  attendees: "出席者",
  agenda: "議題",
  purpose: "目的",
  counterpart: "相手方",
  subject: "用件",
  response: "対応内容",
};

const form = document.getElementById("search-form");
const input = document.getElementById("s-q");
const errorBox = document.getElementById("s-error");
const note = document.getElementById("s-note");
const countLine = document.getElementById("s-count");
const results = document.getElementById("s-results");
const empty = document.getElementById("s-empty");
const prev = document.getElementById("s-prev");
const next = document.getElementById("s-next");
const pageInfo = document.getElementById("s-page");

let query = "";
let offset = 0;
let ticket = 0;

// --- URL <-> state -------------------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(location.search);
  query = (params.get("q") || "").trim();
  offset = Math.min(MAX_OFFSET, Math.max(0, Number.parseInt(params.get("offset") || "0", 10) || 0));
  input.value = params.get("q") || "";
}

function pageUrl(q, from) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (from) params.set("offset", String(from));
  const text = params.toString();
  return text ? `/search?${text}` : "/search";
}

function go(q, from) {
  query = q;
  offset = from;
  const url = pageUrl(q, from);
  if (url !== location.pathname + location.search) history.pushState(null, "", url);
  run();
}

/** Where a match opens in the editor: its time (and the query, for the editor to mark it). */
function editorUrl(recordingId, match, q) {
  const params = new URLSearchParams();
  if (match && match.segment !== null && match.segment !== undefined) {
    params.set("t", String(Math.max(0, Number(match.start) || 0)));
  }
  if (q) params.set("q", q);
  return `/recordings/${recordingId}?${params.toString()}`;
}

// --- rendering -----------------------------------------------------------------------------------

/** The snippet as text with <mark> around each highlighted range (offsets from the API). */
function snippet(text, highlights) {
  const out = h("span", { class: "match-text" });
  const ranges = (highlights || [])
    .map(([a, b]) => [Math.max(0, a), Math.min(text.length, b)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let at = 0;
  for (const [a, b] of ranges) {
    if (a < at) continue; // overlapping ranges: the first one shown is enough
    if (a > at) out.append(document.createTextNode(text.slice(at, a)));
    out.append(h("mark", {}, text.slice(a, b)));
    at = b;
  }
  if (at < text.length) out.append(document.createTextNode(text.slice(at)));
  return out;
}

function matchItem(item, match) {
  const header = match.segment === null || match.segment === undefined;
  const where = header
    ? h("span", { class: "match-where" }, FIELD_LABELS[match.field] || "記録の情報")
    : h(
        "span",
        { class: "match-where" },
        h("span", { class: "match-time" }, formatClock(match.start)),
        match.speaker ? h("span", { class: "match-speaker" }, match.speaker) : null,
      );
  const label = header
    ? `${item.title || "(無題)"}の${FIELD_LABELS[match.field] || "記録の情報"}を開く`
    : `${item.title || "(無題)"}の ${formatClock(match.start)} の発言を開く`;
  return h(
    "li",
    {},
    h(
      "a",
      { class: "match", href: editorUrl(item.recording_id, match, query), title: label },
      where,
      snippet(match.text || "", match.highlights),
    ),
  );
}

function resultItem(item, rank) {
  const first = (item.matches || [])[0] || item;
  const when = item.held_at ? formatDateTime(item.held_at) : `${formatDateTime(item.created_at)}(登録)`;
  const source = item.source === "minutes" ? `議事録 第${item.revision}版` : "文字起こし(未編集)";
  const hits = item.hits ? `${item.hits} か所の発言で一致` : "記録の情報で一致";
  return h(
    "li",
    { class: "result", "data-id": item.recording_id },
    h(
      "h2",
      { class: "result-title" },
      h("span", { class: "visually-hidden" }, `${rank}件目: `),
      h("a", { href: editorUrl(item.recording_id, first, query) }, item.title || "(無題)"),
    ),
    h(
      "p",
      { class: "result-meta" },
      h("span", { class: "kind-tag" }, KIND_LABELS[item.kind] || item.kind || "記録"),
      h("span", {}, when),
      h("span", {}, source),
      h("span", {}, hits),
    ),
    h(
      "ul",
      { class: "result-matches", "aria-label": "一致した箇所" },
      (item.matches || []).map((m) => matchItem(item, m)),
    ),
  );
}

function showEmpty(message) {
  empty.hidden = !message;
  empty.textContent = message || "";
}

function render(data) {
  const items = data.items || [];
  const total = Number(data.total) || 0;
  results.replaceChildren(...items.map((item, k) => resultItem(item, offset + k + 1)));
  const about = data.complete === false ? "約" : "";
  countLine.textContent = total ? `「${query}」: ${about}${total} 件の記録が見つかりました` : "";
  const notes = [];
  if (data.complete === false) {
    notes.push("多くの記録に含まれる語のため、新しい記録から順に調べています。語を足すと、より正確に探せます。");
  }
  if (data.pending) {
    notes.push(
      `検索の準備ができていない記録がまだ ${data.pending} 件あります。しばらくしてから、もう一度検索してください。`,
    );
  }
  showMessage(note, notes.join(" "), "info");
  showEmpty(
    items.length
      ? ""
      : total
        ? "このページには結果がありません。「前の20件」で戻ってください。"
        : `「${query}」を含む記録は見つかりませんでした。語を減らすか、別の言い方(例: 略さない言い方)で探してください。`,
  );
  const last = Math.min(offset + items.length, total);
  pageInfo.textContent = total > LIMIT && items.length ? `${offset + 1}–${last} 件目 / ${about}${total} 件` : "";
  prev.hidden = offset === 0;
  next.hidden = !(offset + LIMIT < total && offset + LIMIT <= MAX_OFFSET && items.length);
}

function clearResults() {
  results.replaceChildren();
  countLine.textContent = "";
  pageInfo.textContent = "";
  prev.hidden = next.hidden = true;
  showMessage(note, "");
}

async function run({ focusResults = false } = {}) {
  const mine = ++ticket;
  document.title = query ? `「${query}」の検索結果 | kiroku 記録` : "検索 | kiroku 記録";
  showMessage(errorBox, "");
  if (!query) {
    clearResults();
    showEmpty("探したい語を入力して「検索」を押してください。例: 「9条」「粗大ごみ 収集」「見守り活動」");
    return;
  }
  results.setAttribute("aria-busy", "true");
  countLine.textContent = "検索しています…";
  showEmpty("");
  try {
    const params = new URLSearchParams({ q: query, limit: String(LIMIT), offset: String(offset) });
    const data = await api(`/api/v1/search?${params}`);
    if (mine !== ticket) return; // a newer search answered first
    render(data);
    if (focusResults) countLine.focus();
  } catch (error) {
    if (mine !== ticket) return;
    clearResults();
    showMessage(errorBox, `検索できませんでした: ${errorText(error)}`);
  } finally {
    if (mine === ticket) results.removeAttribute("aria-busy");
  }
}

// --- events --------------------------------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = input.value.trim();
  if (!q) {
    showMessage(errorBox, "検索する語を入力してください。");
    input.focus();
    return;
  }
  go(q, 0);
});
prev.addEventListener("click", () => {
  offset = Math.max(0, offset - LIMIT);
  history.pushState(null, "", pageUrl(query, offset));
  run({ focusResults: true });
});
next.addEventListener("click", () => {
  offset = Math.min(MAX_OFFSET, offset + LIMIT);
  history.pushState(null, "", pageUrl(query, offset));
  run({ focusResults: true });
});
window.addEventListener("popstate", () => {
  readUrl();
  run();
});
// "/" jumps to the search box from anywhere on the page except while typing.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)))
    return;
  event.preventDefault();
  input.focus();
  input.select();
});

readUrl();
run();
if (!query) input.focus();
