// 公開用 (publication copy): the minutes with personal data masked (■■) for 情報公開.
//
// The copy is a list of spans over the minutes' text (header fields, speaker names, utterances); the
// API finds candidates (each with its reason), the clerk confirms (隠す) or rejects (隠さない) them and adds ranges by hand.
// Decisions are kept here until 保存 (PUT with If-Match), so the preview shows them at once and a
// conflict with someone else's save loses nothing. The original minutes are never written from here.
// Record text is always put in the page as text nodes, never as HTML.
import {
  $,
  ApiError,
  announce,
  api,
  errorText,
  formatClock,
  h,
  initLayout,
  pageData,
  saveDownload,
  showMessage,
  textOffset,
  warnBeforeLeaving,
} from "./common.js";

initLayout();

const DATA = pageData();
const RID = DATA.id;
const BASE = `/api/v1/recordings/${RID}/publication`;
const MASK = "■";
const KIND_NAMES = {
  phone: "電話番号",
  mynumber: "マイナンバー",
  postal: "郵便番号",
  address: "住所",
  email: "メールアドレス",
  name: "氏名",
  birthdate: "生年月日",
  account: "口座・カード番号",
  id: "番号(保険証など)",
  plate: "車のナンバー",
  other: "その他",
  manual: "手で追加",
};
const STATUS_NAMES = { proposed: "未確認", confirmed: "隠す", rejected: "隠さない" };
// Which look a piece of text covered by several spans takes: a mask wins over a disclosure.
const STATUS_WEIGHT = { rejected: 0, proposed: 1, confirmed: 2 };
// Header fields a kind does not list (a phone call's 場所 and 対応者・相手) still get their own label.
const OTHER_HEADER_LABELS = {
  title: "件名",
  place: "場所",
  attendees: DATA.kind === "phone" ? "対応者・相手" : "出席者",
  agenda: "議題",
  purpose: "目的",
  counterpart: "相手方",
  subject: "用件",
  response: "対応内容",
};
const HEADER_LABELS = { ...OTHER_HEADER_LABELS, ...Object.fromEntries(DATA.header_fields || []) };

const els = {
  state: $("pub-state"),
  save: $("pub-save"),
  error: $("pub-error"),
  banner: $("pub-banner"),
  bannerText: $("pub-banner-text"),
  bannerAction: $("pub-banner-action"),
  start: $("pub-start"),
  create: $("pub-create"),
  work: $("pub-work"),
  bar: $("pub-bar"),
  text: $("pub-text"),
  legend: $("pub-legend"),
  viewOriginal: $("view-original"),
  viewPreview: $("view-preview"),
  maskSelection: $("mask-selection"),
  counts: $("cand-counts"),
  onlyOpen: $("only-open"),
  list: $("cand-list"),
  listEmpty: $("cand-empty"),
  byText: $("by-text"),
  byTextInput: $("by-text-q"),
  exportHint: $("export-hint"),
  refresh: $("pub-refresh"),
  meta: $("pub-meta"),
  download: $("download"),
  timestamps: $("export-timestamps"),
};
const exportButtons = [...document.querySelectorAll("[data-format]")];

const state = {
  view: null, // the copy as the server last gave it
  etag: "",
  fieldsRevision: -1, // the minutes revision ``fields`` were read from
  fields: new Map(), // target -> original text ("segment.3", "header.title", "speaker.S1")
  segments: [], // {index, start, speaker}
  speakerNames: new Map(), // speaker id -> original name
  unnamed: new Map(), // speaker id -> 発言者A …: how the record (docx, txt) calls one nobody named
  overrides: new Map(), // span id -> status, not saved yet
  added: [], // manual spans not saved yet
  removed: new Set(), // ids of saved manual spans to remove
  nextTemp: 1,
  mode: "original",
  current: null, // id of the candidate the list is on
  saving: false,
  conflict: false,
};

// --- the copy as it stands here -------------------------------------------------------------------

function targetOrder(target) {
  const [kind, name = ""] = target.split(/\.(.*)/s);
  const rank = { header: 0, speaker: 1, segment: 2 }[kind] ?? 3;
  return [rank, /^\d+$/.test(name) ? Number(name) : 0, name];
}

function compareSpans(a, b) {
  const x = targetOrder(a.target);
  const y = targetOrder(b.target);
  for (let k = 0; k < 3; k++) {
    if (x[k] < y[k]) return -1;
    if (x[k] > y[k]) return 1;
  }
  return a.start - b.start;
}

/** Saved spans with the unsaved decisions applied, plus the unsaved manual spans. */
function spans() {
  const saved = (state.view?.spans || [])
    .filter((s) => !state.removed.has(s.id))
    .map((s) => (state.overrides.has(s.id) ? { ...s, status: state.overrides.get(s.id) } : s));
  return [...saved, ...state.added].sort(compareSpans);
}

function spanById(id) {
  return spans().find((s) => s.id === id) || null;
}

function dirty() {
  return state.overrides.size > 0 || state.added.length > 0 || state.removed.size > 0;
}

function stale() {
  return Boolean(state.view?.stale);
}

function editable() {
  return Boolean(state.view) && !stale() && !state.saving && !state.conflict;
}

function maskText(text) {
  return text.replace(/\S/gu, MASK);
}

// --- reading the minutes the copy was made on -----------------------------------------------------

async function loadFields(revision) {
  if (revision === state.fieldsRevision) return;
  const body = await api(`/api/v1/recordings/${RID}/minutes/revisions/${revision}`);
  const fields = new Map();
  // The same pieces, in the same order, as the API's ``minutes_fields``.
  for (const [key, value] of Object.entries(body.header || {})) {
    if (typeof value === "string" && value && key !== "held_at") fields.set(`header.${key}`, value);
  }
  const transcript = body.transcript || {};
  const names = new Map();
  for (const speaker of transcript.speakers || []) {
    if (speaker.name) {
      fields.set(`speaker.${speaker.id}`, String(speaker.name));
      names.set(speaker.id, String(speaker.name));
    }
  }
  const segments = [];
  (transcript.segments || []).forEach((segment, index) => {
    fields.set(`segment.${index}`, String(segment.text || ""));
    segments.push({ index, start: Number(segment.start) || 0, speaker: segment.speaker || "" });
  });
  state.fields = fields;
  state.segments = segments;
  state.speakerNames = names;
  state.unnamed = new Map(Object.entries(body.speaker_labels || {}));
  state.fieldsRevision = revision;
}

// --- talking to the API ---------------------------------------------------------------------------

async function fetchView(method = "GET") {
  const response = await api(BASE, { method, raw: true });
  // 204: no copy yet (or no transcript yet), a state named in a header rather than an error.
  if (response.status === 204) throw new ApiError(204, "", response.headers.get("X-Kiroku-State") || "no_publication");
  const view = await response.json();
  return { view, etag: response.headers.get("ETag") || `"p${view.revision}"` };
}

function resetPending() {
  state.overrides.clear();
  state.added = [];
  state.removed.clear();
}

async function adopt(view, etag) {
  await loadFields(view.minutes_revision);
  state.view = view;
  state.etag = etag;
  if (state.current && !spanById(state.current)) state.current = null;
  els.start.hidden = true;
  els.work.hidden = els.bar.hidden = false;
  renderAll();
}

async function load() {
  setState("idle", "読み込み中…");
  try {
    const { view, etag } = await fetchView();
    resetPending();
    await adopt(view, etag);
  } catch (error) {
    if (error instanceof ApiError && error.code === "no_publication") {
      els.start.hidden = false;
      els.work.hidden = els.bar.hidden = true;
      setState("idle", "未作成");
      els.create.focus();
      return;
    }
    if (error instanceof ApiError && error.code === "not_ready") {
      setState("error", "作成できません");
      showMessage(els.error, "文字起こしがまだ完了していないため、公開用は作れません。完了してから開いてください。");
      return;
    }
    setState("error", "読み込めませんでした");
    showMessage(els.error, `公開用を読み込めませんでした: ${errorText(error)}`);
  }
}

/** POST: make the copy, or look for candidates again in the current minutes (decisions are kept). */
async function createOrRefresh() {
  if (dirty() && !confirm("保存していない変更があります。候補を探し直すと、その変更は消えます。続けますか?")) return;
  const first = !state.view;
  els.create.disabled = els.refresh.disabled = true;
  setState("saving", first ? "作成しています…" : "候補を探しています…");
  showMessage(els.error, "");
  try {
    const { view, etag } = await fetchView("POST");
    resetPending();
    state.conflict = false;
    await adopt(view, etag);
    const found = view.counts?.total ?? view.spans.length;
    const lost = view.lost ? ` 手で追加した範囲のうち ${view.lost} 件は、文が変わったため外れました。` : "";
    announce(
      first
        ? `公開用を作成しました。候補は ${found} 件です。`
        : `候補を探し直しました。候補は ${found} 件です。${lost}`,
    );
    if (lost) showBanner("warning", lost.trim());
    focusFirstOpen();
  } catch (error) {
    setState("error", "できませんでした");
    showMessage(els.error, `公開用を${first ? "作成" : "更新"}できませんでした: ${errorText(error)}`);
  } finally {
    els.create.disabled = false;
    updateControls();
  }
}

async function save() {
  if (!dirty() || !editable()) return;
  const edit = {
    changes: [...state.overrides].map(([id, status]) => ({ id, status })),
    add: state.added.map((s) => ({ target: s.target, start: s.start, end: s.end })),
    remove: [...state.removed],
  };
  const current = state.current && spanById(state.current);
  state.saving = true;
  setState("saving", "保存しています…");
  updateControls();
  try {
    const response = await api(BASE, { method: "PUT", json: edit, headers: { "If-Match": state.etag }, raw: true });
    const view = await response.json();
    resetPending();
    state.saving = false;
    // A manual span gets its id from the server: stay on the same place in the list.
    if (current && String(current.id).startsWith("new")) {
      state.current =
        view.spans.find((s) => s.target === current.target && s.start === current.start && s.end === current.end)?.id ||
        null;
    }
    await adopt(view, response.headers.get("ETag") || `"p${view.revision}"`);
    showMessage(els.error, "");
    announce("公開用を保存しました。");
  } catch (error) {
    state.saving = false;
    if (error instanceof ApiError && (error.status === 412 || error.code === "conflict")) {
      state.conflict = true;
      setState("conflict", "保存できませんでした");
      showBanner(
        "error",
        "他の人が先にこの公開用を保存したため、保存できませんでした。あなたの変更はまだ画面に残っています。" +
          "「最新の内容を読み込む」を押すと、他の人の保存内容にあなたの変更を重ねて表示します。確かめてから、もう一度保存してください。",
        "最新の内容を読み込む",
        reloadKeepingChanges,
      );
    } else if (error instanceof ApiError && error.code === "stale_publication") {
      state.view = { ...state.view, stale: true };
      setState("conflict", "保存できませんでした");
      renderAll();
    } else {
      setState("error", "保存できませんでした");
      showMessage(els.error, `保存できませんでした: ${errorText(error)}`);
    }
    updateControls();
  }
}

/** After a conflict: the latest saved copy, with this clerk's unsaved changes laid over it. */
async function reloadKeepingChanges() {
  try {
    const { view, etag } = await fetchView();
    const ids = new Set(view.spans.map((s) => s.id));
    const sameText = view.minutes_revision === state.fieldsRevision;
    for (const [id, status] of [...state.overrides]) {
      const saved = view.spans.find((s) => s.id === id);
      if (!saved || saved.status === status) state.overrides.delete(id);
    }
    for (const id of [...state.removed]) if (!ids.has(id)) state.removed.delete(id);
    if (!sameText) state.added = []; // ranges of an older text cannot be placed on the new one
    state.conflict = false;
    hideBanner();
    await adopt(view, etag);
    announce(
      dirty()
        ? "最新の内容を読み込みました。あなたの保存していない変更を重ねています。確かめてから保存してください。"
        : "最新の内容を読み込みました。",
    );
  } catch (error) {
    showMessage(els.error, `読み込めませんでした: ${errorText(error)}`);
  }
}

async function exportAs(format, button) {
  if (dirty() || stale()) return;
  button.disabled = true;
  try {
    // The editor's choices (全文/整文, time stamps): 整文 only leaves words out of the written file.
    const tidy = document.querySelector('input[name="export-text"]:checked')?.value === "tidy";
    const query = new URLSearchParams({ format, tidy: String(tidy), timestamps: String(els.timestamps.checked) });
    const response = await api(`${BASE}/export?${query}`, { raw: true });
    await saveDownload(response, els.download, `publication-${RID}.${format}`);
    const open = spans().filter((s) => s.status === "proposed").length;
    announce(
      `公開用を${format === "docx" ? "Word" : "テキスト"}(${tidy ? "整文" : "全文"})で書き出しました。${open ? `未確認の候補 ${open} 件も隠しています。` : ""}`,
    );
  } catch (error) {
    showMessage(els.error, `書き出せませんでした: ${errorText(error)}`);
  } finally {
    updateControls();
  }
}

// --- changes --------------------------------------------------------------------------------------

function setStatus(id, status) {
  if (!editable()) return;
  const span = spanById(id);
  if (!span || span.source === "manual") return;
  const saved = state.view.spans.find((s) => s.id === id);
  if (saved && saved.status === status) state.overrides.delete(id);
  else state.overrides.set(id, status);
  changed(span.target);
  announce(`「${span.text}」: ${STATUS_NAMES[status]}`);
}

function removeSpan(id) {
  if (!editable()) return;
  const span = spanById(id);
  if (!span) return;
  if (span.source !== "manual") {
    announce("自動で見つかった候補は削除できません。隠さないときは「隠さない」(N キー)を押してください。");
    return;
  }
  const order = visibleSpans().map((s) => s.id);
  const at = order.indexOf(id);
  if (String(id).startsWith("new")) state.added = state.added.filter((s) => s.id !== id);
  else state.removed.add(id);
  state.current = order[at + 1] || order[at - 1] || null;
  changed(span.target);
  announce(`手で追加した範囲「${span.text}」を削除しました。`);
}

function addRange(target, start, end) {
  const text = state.fields.get(target) || "";
  if (!(start >= 0 && start < end && end <= text.length)) return null;
  const exists = spans().find(
    (s) => s.target === target && s.start === start && s.end === end && s.status !== "rejected",
  );
  if (exists) return exists;
  const span = {
    id: `new${state.nextTemp++}`,
    target,
    start,
    end,
    text: text.slice(start, end),
    kind: "manual",
    source: "manual",
    status: "confirmed",
  };
  state.added.push(span);
  return span;
}

function addByText(word) {
  let added = 0;
  for (const [target, text] of state.fields) {
    let at = text.indexOf(word);
    while (at >= 0) {
      if (addRange(target, at, at + word.length)) added += 1;
      at = text.indexOf(word, at + word.length);
    }
  }
  return added;
}

/** The field element and offsets of the text selected in the body, or a reason it cannot be used. */
function selectedRange() {
  const selection = document.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!els.text.contains(range.commonAncestorContainer)) return null;
  const fieldOf = (node) => (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)?.closest("[data-target]");
  const first = fieldOf(range.startContainer);
  const last = fieldOf(range.endContainer);
  if (!first || first !== last) return { error: "隠す範囲は、一つの発言(または一つの項目)の中で選んでください。" };
  let start = textOffset(first, range.startContainer, range.startOffset);
  let end = textOffset(first, range.endContainer, range.endOffset);
  const text = state.fields.get(first.dataset.target) || "";
  while (start < end && /\s/.test(text[start])) start += 1; // spaces picked up at the edges
  while (end > start && /\s/.test(text[end - 1])) end -= 1;
  if (end <= start) return null;
  return { target: first.dataset.target, start, end };
}

function maskSelection() {
  if (!editable()) return;
  const picked = selectedRange();
  if (!picked) {
    announce("隠したい文字を本文で選んでください。");
    return;
  }
  if (picked.error) {
    showMessage(els.error, picked.error);
    return;
  }
  const span = addRange(picked.target, picked.start, picked.end);
  document.getSelection()?.removeAllRanges();
  if (!span) return;
  showMessage(els.error, "");
  state.current = span.id;
  changed(span.target);
  focusCurrent();
  announce(`「${span.text}」を隠す範囲に追加しました。保存すると公開用に反映されます。`);
}

function changed(target) {
  renderField(target);
  if (target.startsWith("speaker.")) renderAllFields(); // a speaker's name is shown on each utterance
  renderList();
  renderCounts();
  updateControls();
}

// --- rendering ------------------------------------------------------------------------------------

function whereLabel(target) {
  const [kind, name] = target.split(/\.(.*)/s);
  if (kind === "header") return HEADER_LABELS[name] || "記録の情報";
  if (kind === "speaker") return `話者名(${name})`;
  const segment = state.segments[Number(name)];
  if (!segment) return "発言";
  const who = state.speakerNames.get(segment.speaker) || state.unnamed.get(segment.speaker) || segment.speaker;
  return `発言 ${segment.index + 1}(${formatClock(segment.start)}${who ? `・${who}` : ""})`;
}

/** ``text`` cut where spans begin and end; each piece with the spans that cover it. */
function pieces(text, covering) {
  const cuts = new Set([0, text.length]);
  for (const s of covering) {
    cuts.add(Math.max(0, Math.min(text.length, s.start)));
    cuts.add(Math.max(0, Math.min(text.length, s.end)));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const [a, b] = [points[k], points[k + 1]];
    if (b > a) out.push({ a, b, spans: covering.filter((s) => s.start <= a && s.end >= b) });
  }
  return out;
}

/** A field's text as nodes: candidates marked (original), or kept spans as ■ (preview). */
function fieldNodes(target, fieldSpans) {
  const text = state.fields.get(target) || "";
  const nodes = [];
  for (const piece of pieces(text, fieldSpans)) {
    const part = text.slice(piece.a, piece.b);
    if (!piece.spans.length) {
      nodes.push(document.createTextNode(part));
      continue;
    }
    const top = piece.spans.reduce((x, y) => (STATUS_WEIGHT[y.status] > STATUS_WEIGHT[x.status] ? y : x));
    const current = piece.spans.find((s) => s.id === state.current);
    const lead = current || top;
    if (state.mode === "preview") {
      nodes.push(
        top.status === "rejected" ? document.createTextNode(part) : h("span", { class: "masked" }, maskText(part)),
      );
      continue;
    }
    const classes = ["pm", `pm-${top.status}`];
    if (piece.spans.some((s) => s.source === "manual")) classes.push("pm-manual");
    if (current) classes.push("is-current");
    nodes.push(
      h(
        "mark",
        {
          class: classes.join(" "),
          "data-id": lead.id,
          title: `${KIND_NAMES[lead.kind] || lead.kind}・${STATUS_NAMES[top.status]}`,
        },
        part,
      ),
    );
  }
  return nodes;
}

function spansByTarget() {
  const by = new Map();
  for (const s of spans()) {
    if (!by.has(s.target)) by.set(s.target, []);
    by.get(s.target).push(s);
  }
  return by;
}

function speakerLabel(id, by) {
  const target = `speaker.${id}`;
  if (!state.fields.has(target)) return document.createTextNode(state.unnamed.get(id) || id || "—");
  return h("span", {}, fieldNodes(target, by.get(target) || []));
}

function renderAllFields() {
  const by = spansByTarget();
  const header = h("dl", { class: "pub-header" });
  for (const target of state.fields.keys()) {
    if (!target.startsWith("header.")) continue;
    header.append(
      h("dt", {}, whereLabel(target)),
      h("dd", {}, h("span", { class: "pub-field", "data-target": target }, fieldNodes(target, by.get(target) || []))),
    );
  }
  const speakers = [...state.speakerNames.keys()].map((id) =>
    h(
      "li",
      {},
      h("span", { class: "pub-spk-id" }, id),
      h(
        "span",
        { class: "pub-field", "data-target": `speaker.${id}` },
        fieldNodes(`speaker.${id}`, by.get(`speaker.${id}`) || []),
      ),
    ),
  );
  const rows = state.segments.map((segment) => {
    const target = `segment.${segment.index}`;
    return h(
      "div",
      { class: "pub-utt", "data-row": target },
      h("span", { class: "pub-time" }, formatClock(segment.start)),
      h("span", { class: "pub-speaker", "data-speaker": segment.speaker }, speakerLabel(segment.speaker, by)),
      h("p", { class: "pub-field", "data-target": target }, fieldNodes(target, by.get(target) || [])),
    );
  });
  const parts = [h("h3", { class: "pub-sub" }, "記録の情報"), header];
  if (speakers.length)
    parts.push(h("h3", { class: "pub-sub" }, "話者名"), h("ul", { class: "pub-speakers" }, speakers));
  parts.push(
    h("h3", { class: "pub-sub" }, "発言"),
    rows.length ? h("div", { class: "pub-utts" }, rows) : h("p", { class: "hint" }, "発言はありません。"),
  );
  els.text.replaceChildren(...parts);
  els.text.classList.toggle("is-preview", state.mode === "preview");
}

function renderField(target) {
  const element = els.text.querySelector(`[data-target="${CSS.escape(target)}"]`);
  if (!element) return;
  const own = spans().filter((s) => s.target === target);
  element.replaceChildren(...fieldNodes(target, own));
}

function visibleSpans() {
  const all = spans();
  return els.onlyOpen.checked ? all.filter((s) => s.status === "proposed" || s.id === state.current) : all;
}

function candidateItem(span) {
  const manual = span.source === "manual";
  const unsaved = String(span.id).startsWith("new") || state.overrides.has(span.id);
  const kind = KIND_NAMES[span.kind] || span.kind;
  const where = whereLabel(span.target);
  const status = manual ? "隠す(手で追加)" : STATUS_NAMES[span.status];
  const choice = (value, label, key) =>
    h(
      "button",
      {
        class: "btn btn-small",
        type: "button",
        "data-act": value,
        "aria-pressed": span.status === value ? "true" : "false",
        tabindex: "-1",
        disabled: !editable(),
      },
      label,
      " ",
      h("kbd", { "aria-hidden": "true" }, key),
    );
  const actions = manual
    ? [
        h(
          "button",
          {
            class: "btn btn-small btn-danger-quiet",
            type: "button",
            "data-act": "remove",
            tabindex: "-1",
            disabled: !editable(),
          },
          "範囲を削除 ",
          h("kbd", { "aria-hidden": "true" }, "Del"),
        ),
      ]
    : [choice("confirmed", "隠す", "Y"), choice("rejected", "隠さない", "N")];
  return h(
    "li",
    {
      class: `cand cand-${span.status}${span.id === state.current ? " is-current" : ""}`,
      id: `cand-${span.id}`,
      "data-id": span.id,
      tabindex: span.id === state.current ? "0" : "-1",
      "aria-label": `${kind}「${span.text}」、${where}、${status}${unsaved ? "、未保存" : ""}${span.reason ? `、${span.reason}` : ""}`,
      "aria-current": span.id === state.current ? "true" : null,
    },
    h(
      "div",
      { class: "cand-row" },
      h("span", { class: `cand-kind kind-${span.kind}` }, kind),
      h("span", { class: "cand-text" }, span.text),
      h("span", { class: `cand-status st-${span.status}` }, status),
    ),
    h(
      "div",
      { class: "cand-row" },
      h("span", { class: "cand-where" }, where),
      unsaved ? h("span", { class: "cand-unsaved" }, "未保存") : null,
      h("span", { class: "cand-actions", role: "group", "aria-label": "この候補の扱い" }, actions),
    ),
    span.reason ? h("p", { class: "cand-reason" }, span.reason) : null,
  );
}

function renderList() {
  const hadFocus = els.list.contains(document.activeElement);
  const shown = visibleSpans();
  if (state.current === null && shown.length) state.current = shown[0].id;
  if (!shown.some((s) => s.id === state.current) && shown.length) state.current = shown[0].id;
  els.list.replaceChildren(...shown.map(candidateItem));
  els.listEmpty.hidden = shown.length > 0;
  els.listEmpty.textContent = spans().length
    ? "未確認の候補はありません。"
    : "個人情報の候補は見つかりませんでした。隠したい箇所があれば、本文で選んで追加してください。";
  if (hadFocus) focusCurrent();
}

function renderCounts() {
  const all = spans();
  const count = (status) => all.filter((s) => s.status === status).length;
  const manual = all.filter((s) => s.source === "manual").length;
  const open = count("proposed");
  els.counts.replaceChildren(
    h("span", { class: open ? "pub-count open" : "pub-count" }, `未確認 ${open} 件`),
    h("span", { class: "pub-count" }, `隠す ${count("confirmed")} 件`),
    h("span", { class: "pub-count" }, `隠さない ${count("rejected")} 件`),
    h("span", { class: "pub-count" }, `(うち手で追加 ${manual} 件)`),
  );
}

function renderAll() {
  renderAllFields();
  renderList();
  renderCounts();
  updateControls();
  const view = state.view;
  const source = (n) => (n ? `議事録 第${n}版` : "文字起こし(未編集)");
  els.meta.textContent = view
    ? `${source(view.minutes_revision)}から作成・公開用 第${view.revision}版` +
      (view.current_minutes_revision !== view.minutes_revision
        ? `(最新は${source(view.current_minutes_revision)})`
        : "")
    : "";
  if (stale()) {
    showBanner(
      "warning",
      "公開用を作ったあとで議事録が更新されました。新しい文に個人情報がないか確かめるため、「公開用を更新」を押してください。それまでは、変更も書き出しもできません(表示しているのは前の版の文です)。",
      "公開用を更新",
      createOrRefresh,
    );
  } else if (!state.conflict && els.banner.dataset.kind !== "warning-lost") {
    hideBanner();
  }
}

function setState(kind, text) {
  els.state.dataset.state = kind;
  els.state.textContent = text;
}

function updateControls() {
  const canEdit = editable();
  els.save.disabled = !canEdit || !dirty();
  els.save.hidden = !state.view;
  els.refresh.disabled = !state.view || state.saving;
  els.maskSelection.disabled = !canEdit || !selectedRange();
  els.byText.querySelector("button").disabled = !canEdit;
  els.byTextInput.disabled = !canEdit;
  for (const button of exportButtons) button.disabled = !state.view || stale() || dirty() || state.saving;
  els.exportHint.textContent = stale()
    ? "議事録が更新されたため、公開用を更新するまで書き出せません。"
    : dirty()
      ? "保存していない変更があります。保存してから書き出してください。"
      : "保存済みの公開用を、隠した状態で書き出します。未確認の候補も隠します。";
  if (state.saving || state.conflict) return;
  if (stale()) setState("conflict", "議事録が更新されています");
  else if (dirty()) setState("dirty", "保存していない変更があります");
  else if (state.view) setState("saved", "保存済み");
}

function showBanner(kind, text, actionLabel = "", action = null) {
  els.banner.hidden = false;
  els.banner.className = `alert alert-${kind}`;
  els.banner.dataset.kind = kind === "warning" && !action ? "warning-lost" : kind;
  els.bannerText.textContent = text;
  els.bannerAction.hidden = !action;
  els.bannerAction.textContent = actionLabel;
  els.bannerAction.onclick = action;
}

function hideBanner() {
  els.banner.hidden = true;
  delete els.banner.dataset.kind;
}

// --- the candidate list and the keyboard ----------------------------------------------------------

function focusCurrent() {
  const item = state.current ? document.getElementById(`cand-${state.current}`) : null;
  if (!item) return;
  for (const other of els.list.querySelectorAll('.cand[tabindex="0"]')) if (other !== item) other.tabIndex = -1;
  item.tabIndex = 0;
  item.focus({ preventScroll: true });
  item.scrollIntoView({ block: "nearest" });
  showInText(state.current);
}

function focusFirstOpen() {
  const open = spans().find((s) => s.status === "proposed");
  if (!open) return;
  state.current = open.id;
  renderList();
  focusCurrent();
}

function select(id) {
  const previous = state.current ? spanById(state.current) : null;
  state.current = id;
  const span = spanById(id);
  for (const item of els.list.querySelectorAll(".cand")) {
    const on = item.dataset.id === id;
    item.classList.toggle("is-current", on);
    item.tabIndex = on ? 0 : -1;
    if (on) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
  if (previous && previous.target !== span?.target) renderField(previous.target);
  if (span) renderField(span.target);
  focusCurrent();
}

function showInText(id) {
  const span = spanById(id);
  if (!span) return;
  const field = els.text.querySelector(`[data-target="${CSS.escape(span.target)}"]`);
  const mark = field?.querySelector(`mark[data-id="${CSS.escape(id)}"]`) || field;
  mark?.scrollIntoView({ block: "nearest" });
}

function move(step) {
  const order = visibleSpans().map((s) => s.id);
  if (!order.length) return;
  const at = order.indexOf(state.current);
  const next =
    step === Infinity ? order.length - 1 : step === -Infinity ? 0 : Math.max(0, Math.min(order.length - 1, at + step));
  select(order[next]);
}

function decide(status) {
  const id = state.current;
  if (!id) return;
  if (!editable()) {
    announce(stale() ? "議事録が更新されたため、公開用を更新するまで変更できません。" : "今は変更できません。");
    return;
  }
  const order = visibleSpans().map((s) => s.id);
  const nextId = order[order.indexOf(id) + 1] || null;
  setStatus(id, status);
  if (nextId && visibleSpans().some((s) => s.id === nextId)) select(nextId);
  else select(visibleSpans().some((s) => s.id === id) ? id : visibleSpans()[0]?.id || null);
}

els.list.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const key = event.key;
  const handled = {
    ArrowDown: () => move(1),
    ArrowUp: () => move(-1),
    Home: () => move(-Infinity),
    End: () => move(Infinity),
    y: () => decide("confirmed"),
    Y: () => decide("confirmed"),
    n: () => decide("rejected"),
    N: () => decide("rejected"),
    u: () => decide("proposed"),
    U: () => decide("proposed"),
    Delete: () => state.current && removeSpan(state.current),
  }[key];
  if (!handled) return;
  event.preventDefault();
  handled();
});

els.list.addEventListener("click", (event) => {
  const item = event.target.closest(".cand");
  if (!item) return;
  const button = event.target.closest("button[data-act]");
  if (!button) {
    select(item.dataset.id);
    return;
  }
  state.current = item.dataset.id;
  if (button.dataset.act === "remove") removeSpan(item.dataset.id);
  else setStatus(item.dataset.id, button.dataset.act);
  select(state.current);
});

els.text.addEventListener("click", (event) => {
  const mark = event.target.closest("mark[data-id]");
  if (!mark || !document.getSelection()?.isCollapsed) return;
  if (els.onlyOpen.checked && !visibleSpans().some((s) => s.id === mark.dataset.id)) {
    els.onlyOpen.checked = false;
    renderList();
  }
  select(mark.dataset.id);
});

function setMode(mode) {
  state.mode = mode;
  els.viewOriginal.setAttribute("aria-pressed", String(mode === "original"));
  els.viewPreview.setAttribute("aria-pressed", String(mode === "preview"));
  els.legend.hidden = mode === "preview"; // the preview has no marks to explain
  renderAllFields();
  announce(mode === "preview" ? "公開用の見え方を表示しています。" : "原文に候補の印をつけて表示しています。");
}

els.viewOriginal.addEventListener("click", () => setMode("original"));
els.viewPreview.addEventListener("click", () => setMode("preview"));
els.onlyOpen.addEventListener("change", () => {
  renderList();
  announce(els.onlyOpen.checked ? "未確認の候補だけを表示しています。" : "すべての候補を表示しています。");
});
els.maskSelection.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
els.maskSelection.addEventListener("click", maskSelection);
els.create.addEventListener("click", createOrRefresh);
els.refresh.addEventListener("click", createOrRefresh);
els.save.addEventListener("click", save);
els.byText.addEventListener("submit", (event) => {
  event.preventDefault();
  const word = els.byTextInput.value.trim();
  if (!word || !editable()) return;
  const added = addByText(word);
  if (!added) {
    showMessage(els.error, `「${word}」は本文にありません。`);
    return;
  }
  showMessage(els.error, "");
  els.byTextInput.value = "";
  renderAllFields();
  renderList();
  renderCounts();
  updateControls();
  announce(`「${word}」の ${added} か所を隠す範囲に追加しました。保存すると公開用に反映されます。`);
});
for (const button of exportButtons) button.addEventListener("click", () => exportAs(button.dataset.format, button));

document.addEventListener("selectionchange", () => {
  els.maskSelection.disabled = !editable() || !selectedRange();
});

document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
    event.preventDefault();
    save();
    return;
  }
  const target = event.target;
  const typing = target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey && (event.key === "m" || event.key === "M")) {
    if (selectedRange()) {
      event.preventDefault();
      maskSelection();
    }
  }
});

warnBeforeLeaving(dirty);

load();
