// 編集: the minutes editor. The transcript is one list of utterances, each a small contenteditable
// (plain text), rendered once as HTML; rows off screen cost little (content-visibility: auto), so a
// 2-hour meeting opens at once and typing touches only the row being edited. Changes are saved a
// moment after typing stops (PUT with If-Match); a save refused because someone else saved first
// stops saving and says so, never overwriting their version.
import {
  STAGE_LABELS,
  announce,
  api,
  errorText,
  escapeHtml,
  formatClock,
  formatDateTime,
  formatTime,
  h,
  initLayout,
  loginUrl,
  pageData,
  parseServerTime,
  people,
  saveDownload,
} from "./common.js";
import { correctionAt, prepareMachine } from "./review-model.js";
import { createReview } from "./review.js";
import { createTermDialog } from "./term-dialog.js";
import * as T from "./transcript-model.js";

initLayout();

const DATA = pageData();
const RID = DATA.id;
const BASE = `/api/v1/recordings/${RID}`;
const SAVE_IDLE_MS = 1500; // save this long after the last change …
const SAVE_MAX_WAIT_MS = 10000; // … or at the latest this long after the first unsaved one
const SPEAKER_COLOURS = 8;

const $ = (id) => document.getElementById(id);
const els = {
  title: $("ed-title"),
  when: $("ed-when"),
  revisionLabel: $("ed-revision"),
  saveState: $("save-state"),
  banner: $("banner"),
  transcript: $("transcript"),
  audio: $("audio"),
  play: $("play"),
  back5: $("back5"),
  fwd5: $("fwd5"),
  speed: $("speed"),
  follow: $("follow"),
  speakers: $("speakers"),
  speakerCount: $("speaker-count"),
  addSpeaker: $("add-speaker"),
  corrList: $("corr-list"),
  corrCount: $("corr-count"),
  lowCount: $("low-count"),
  headerForm: $("header-form"),
  popover: $("popover"),
  revisions: $("revisions"),
  revisionsList: $("revisions-list"),
  revisionsError: $("revisions-error"),
  download: $("download"),
  findBar: $("find-bar"),
  findQ: $("find-q"),
  findR: $("find-r"),
  findCount: $("find-count"),
  findOpen: $("find-open"),
  fillers: $("fillers"),
};

const state = {
  loaded: false,
  header: {},
  rest: {},
  speakers: [],
  segs: [],
  byUid: new Map(),
  rows: new Map(),
  revision: 0,
  dirty: false,
  changes: 0,
  firstDirtyAt: 0,
  saving: null,
  conflict: false,
  blocked: "", // why saving waits for the clerk (signed out, refused content)
  retryMs: 0,
  hideFillers: false,
  playingUid: null,
  currentUid: null,
  recording: null,
};

const metrics = { fetchMs: 0, renderMs: 0, readyMs: 0, segments: 0, inputs: 0, inputTotalMs: 0, inputMaxMs: 0 };
window.kirokuEditor = { metrics, ready: false };

const EDITABLE = (() => {
  const probe = document.createElement("div");
  try {
    probe.contentEditable = "plaintext-only";
    return probe.contentEditable === "plaintext-only" ? "plaintext-only" : "true";
  } catch {
    return "true";
  }
})();

// --- small helpers ------------------------------------------------------------------------------

function indexOf(seg) {
  return state.segs.indexOf(seg);
}

function segOf(node) {
  const row = node?.closest?.(".utt");
  return row ? state.byUid.get(Number(row.dataset.uid)) : null;
}

function textEl(seg) {
  return state.rows.get(seg.uid)?.querySelector(".utt-text") || null;
}

function speakerIndex(id) {
  const i = state.speakers.findIndex((s) => s.id === id);
  return (i < 0 ? 0 : i) % SPEAKER_COLOURS;
}

function speakerName(id) {
  const found = state.speakers.find((s) => s.id === id);
  return (found && found.name.trim()) || id;
}

function editable() {
  return !state.conflict && !state.hideFillers && state.loaded;
}

function readText(el) {
  return el.textContent.replace(/\u00a0/g, " ").replace(/[\r\n]/g, "");
}

/** Character offset of the caret (selection start) inside a text element, or null. */
function caretOffset(el, atEnd = false) {
  const selection = getSelection();
  if (!selection || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const node = atEnd ? range.endContainer : range.startContainer;
  if (!el.contains(node)) return null;
  const before = document.createRange();
  before.selectNodeContents(el);
  before.setEnd(node, atEnd ? range.endOffset : range.startOffset);
  return before.toString().length;
}

/** A DOM range over characters [start, end) of a text element. */
function rangeFor(el, start, end) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let pos = 0;
  let startSet = false;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const length = node.data.length;
    if (!startSet && start <= pos + length) {
      range.setStart(node, start - pos);
      startSet = true;
    }
    if (startSet && end <= pos + length) {
      range.setEnd(node, end - pos);
      return range;
    }
    pos += length;
  }
  range.selectNodeContents(el);
  if (startSet) return range;
  range.collapse(false);
  return range;
}

function placeCaret(seg, start, end = start) {
  const el = textEl(seg);
  if (!el) return;
  el.focus({ preventScroll: true });
  const selection = getSelection();
  selection.removeAllRanges();
  selection.addRange(rangeFor(el, start, end));
  scrollIntoViewIfNeeded(state.rows.get(seg.uid));
}

function scrollIntoViewIfNeeded(row, block = "nearest") {
  if (!row) return;
  const box = els.transcript.getBoundingClientRect();
  const r = row.getBoundingClientRect();
  if (r.top < box.top + 8 || r.bottom > box.bottom - 8) row.scrollIntoView({ block });
}

// --- rendering ----------------------------------------------------------------------------------

function textHtml(seg) {
  const text = seg.text;
  const marks = [];
  for (const s of T.lowConfidenceSpans(seg)) marks.push({ start: s.start, end: s.end, kind: "low" });
  seg.corr.forEach((c, i) => marks.push({ start: c.start, end: c.end, kind: "corr", index: i }));
  if (state.hideFillers) for (const s of T.fillerSpans(text)) marks.push({ ...s, kind: "filler" });
  seg._rendered = text;
  if (!marks.length) return escapeHtml(text);
  const cuts = new Set([0, text.length]);
  for (const m of marks) {
    cuts.add(Math.max(0, Math.min(text.length, m.start)));
    cuts.add(Math.max(0, Math.min(text.length, m.end)));
  }
  const points = [...cuts].sort((a, b) => a - b);
  let html = "";
  for (let i = 0; i < points.length - 1; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (a === b) continue;
    const piece = escapeHtml(text.slice(a, b));
    const active = marks.filter((m) => m.start <= a && m.end >= b);
    if (!active.length) {
      html += piece;
      continue;
    }
    const classes = [...new Set(active.map((m) => m.kind))];
    const corr = active.find((m) => m.kind === "corr");
    let attrs = "";
    if (corr) {
      const c = seg.corr[corr.index];
      attrs = ` data-ci="${corr.index}" title="${escapeHtml(`${T.correctionReason(c)}押すと元に戻せます。`)}"`;
    }
    html += `<span class="${classes.join(" ")}"${attrs}>${piece}</span>`;
  }
  return html;
}

function rowHtml(seg) {
  const u = seg.uid;
  const spk = escapeHtml(seg.speaker);
  const ce = editable() ? EDITABLE : "false";
  return (
    `<div class="utt" role="listitem" data-uid="${u}">` +
    `<button type="button" class="utt-time" id="t${u}" tabindex="-1" title="この発言から再生">${formatClock(seg.start)}</button>` +
    `<button type="button" class="utt-speaker spk-${speakerIndex(seg.speaker)}" id="s${u}" data-spk="${spk}" aria-haspopup="menu" title="話者を変える">${escapeHtml(speakerName(seg.speaker))}</button>` +
    `<div class="utt-text" contenteditable="${ce}" spellcheck="false" role="textbox" aria-labelledby="t${u} s${u}">${textHtml(seg)}</div>` +
    `</div>`
  );
}

function indexRows(segs) {
  for (const seg of segs) {
    state.byUid.set(seg.uid, seg);
  }
}

function renderAll() {
  const scroll = els.transcript.scrollTop;
  state.byUid.clear();
  state.rows.clear();
  indexRows(state.segs);
  if (!state.segs.length) {
    els.transcript.innerHTML = '<p class="ed-loading">発言はありません(音声に話し声が見つかりませんでした)。</p>';
    return;
  }
  els.transcript.innerHTML = state.segs.map(rowHtml).join("");
  for (const row of els.transcript.children) state.rows.set(Number(row.dataset.uid), row);
  els.transcript.scrollTop = scroll;
  if (state.playingUid !== null) state.rows.get(state.playingUid)?.classList.add("playing");
}

function rerenderText(seg) {
  const el = textEl(seg);
  if (el) el.innerHTML = textHtml(seg);
}

function updateRowSpeaker(seg) {
  const button = state.rows.get(seg.uid)?.querySelector(".utt-speaker");
  if (!button) return;
  button.textContent = speakerName(seg.speaker);
  button.dataset.spk = seg.speaker;
  button.className = `utt-speaker spk-${speakerIndex(seg.speaker)}`;
}

/** Replace ``count`` segments at ``index`` with ``fresh`` ones, in the data and on the page. */
function replaceSegments(index, count, fresh) {
  const old = state.segs.splice(index, count, ...fresh);
  const anchor = state.rows.get(old[0].uid);
  anchor.insertAdjacentHTML("beforebegin", fresh.map(rowHtml).join(""));
  for (const seg of old) {
    state.rows.get(seg.uid)?.remove();
    state.rows.delete(seg.uid);
    state.byUid.delete(seg.uid);
  }
  indexRows(fresh);
  for (const seg of fresh) {
    state.rows.set(seg.uid, els.transcript.querySelector(`.utt[data-uid="${seg.uid}"]`));
  }
  if (old.some((s) => s.uid === state.playingUid)) state.playingUid = null;
  updatePlaying(false);
  refreshSidePanels();
}

// --- side panels -------------------------------------------------------------------------------

function renderSpeakers() {
  const counts = new Map();
  for (const seg of state.segs) counts.set(seg.speaker, (counts.get(seg.speaker) || 0) + 1);
  const focusedId = document.activeElement?.dataset?.speakerId;
  els.speakers.replaceChildren(
    ...state.speakers.map((s, i) => {
      const input = h("input", {
        type: "text",
        id: `spk-name-${i}`,
        value: s.name,
        placeholder: "例: 田中課長",
        maxlength: 100,
        "data-speaker-id": s.id,
        "aria-describedby": `spk-count-${i}`,
        disabled: !editable(),
      });
      input.addEventListener("input", () => renameSpeaker(s, input.value));
      return h(
        "div",
        { class: "speaker-row" },
        h("label", { for: `spk-name-${i}`, class: `spk-id spk-${i % SPEAKER_COLOURS}`, title: `${s.id} の名前` }, s.id),
        input,
        h("span", { class: "spk-count", id: `spk-count-${i}` }, `${counts.get(s.id) || 0} 件の発言`),
      );
    }),
  );
  els.speakerCount.textContent = `(${state.speakers.length})`;
  if (focusedId) els.speakers.querySelector(`[data-speaker-id="${CSS.escape(focusedId)}"]`)?.focus();
}

function updateSpeakerCounts() {
  const counts = new Map();
  for (const seg of state.segs) counts.set(seg.speaker, (counts.get(seg.speaker) || 0) + 1);
  state.speakers.forEach((s, i) => {
    const el = $(`spk-count-${i}`);
    if (el) el.textContent = `${counts.get(s.id) || 0} 件の発言`;
  });
}

function renameSpeaker(speaker, name) {
  speaker.name = name.trim().slice(0, 100);
  const label = speakerName(speaker.id);
  for (const button of els.transcript.querySelectorAll(`.utt-speaker[data-spk="${CSS.escape(speaker.id)}"]`)) {
    button.textContent = label;
  }
  markDirty();
}

function addSpeaker() {
  const id = T.newSpeakerId(state.speakers);
  state.speakers.push({ id, name: "" });
  renderSpeakers();
  $(`spk-name-${state.speakers.length - 1}`)?.focus();
  announce(`話者 ${id} を追加しました。名前を入力してください。`);
  return id;
}

let corrTimer = 0;
function refreshSidePanels() {
  clearTimeout(corrTimer);
  corrTimer = setTimeout(() => {
    renderCorrections();
    updateSpeakerCounts();
    updateLowCount();
  }, 200);
}

function renderCorrections() {
  const items = [];
  for (const seg of state.segs) {
    for (const c of seg.corr) {
      items.push(
        h(
          "li",
          {},
          h("button", { type: "button", class: "corr-time", onclick: () => goToSegment(seg, c.start, c.end) }, formatClock(seg.start)),
          h("span", { class: "corr-text", title: T.correctionReason(c) }, `「${c.before}」→「${c.after}」`),
          h(
            "button",
            { type: "button", class: "btn btn-small", disabled: !editable(), onclick: () => undoCorrection(seg, c) },
            "元に戻す",
          ),
        ),
      );
      if (items.length >= 500) break;
    }
    if (items.length >= 500) break;
  }
  els.corrList.replaceChildren(...(items.length ? items : [h("li", { class: "hint" }, "辞書による修正はありません。")]));
  const total = state.segs.reduce((n, s) => n + s.corr.length, 0);
  els.corrCount.textContent = `(${total})`;
}

function updateLowCount() {
  let n = 0;
  for (const seg of state.segs) n += T.lowConfidenceSpans(seg).length;
  els.lowCount.textContent = `(${n})`;
}

function fillHeader() {
  for (const field of els.headerForm.querySelectorAll("[data-key]")) {
    let value = state.header[field.dataset.key] ?? "";
    if (field.dataset.key === "held_at" && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
      value = formatDateTime(parseServerTime(value)); // shown (and saved) the way minutes write it
      state.header.held_at = value;
    }
    field.value = value;
    field.disabled = !editable();
  }
  const title = state.header.title || DATA.title || "(無題)";
  els.title.textContent = title;
  document.title = `${title} の編集 | kiroku 記録`;
}

// --- saving -------------------------------------------------------------------------------------

let saveTimer = 0;

function setSaveState(kind, text) {
  els.saveState.dataset.state = kind;
  if (els.saveState.textContent !== text) els.saveState.textContent = text;
}

function markDirty() {
  state.changes++;
  if (!state.dirty) {
    state.dirty = true;
    state.firstDirtyAt = performance.now();
  }
  if (state.conflict) return;
  if (!state.saving && !state.blocked) setSaveState("dirty", "未保存の変更あり");
  clearTimeout(saveTimer);
  const waited = performance.now() - state.firstDirtyAt;
  saveTimer = setTimeout(() => saveNow(), waited > SAVE_MAX_WAIT_MS ? 0 : SAVE_IDLE_MS);
}

function minutesBody() {
  return T.toMinutes(state.header, state.rest, state.speakers, state.segs);
}

async function putMinutes(body) {
  return api(`${BASE}/minutes`, {
    method: "PUT",
    json: body,
    headers: { "If-Match": `"r${state.revision}"` },
    redirectOn401: false,
  });
}

/** Save now if anything is unsaved; resolves when the newest change is saved (or cannot be). */
async function saveNow() {
  clearTimeout(saveTimer);
  if (state.saving) {
    await state.saving;
    if (state.dirty && !state.conflict && !state.blocked) return saveNow();
    return;
  }
  if (!state.dirty || state.conflict || !state.loaded) return;
  state.blocked = "";
  const changes = state.changes;
  setSaveState("saving", "保存中…");
  state.saving = (async () => {
    try {
      const saved = await putMinutes(minutesBody());
      state.revision = saved.revision;
      state.retryMs = 0;
      if (state.changes === changes) state.dirty = false;
      else state.firstDirtyAt = performance.now();
      els.revisionLabel.textContent = `版 ${state.revision}`;
      hideBanner("save");
      setSaveState(state.dirty ? "dirty" : "saved", state.dirty ? "未保存の変更あり" : `保存済み ${formatTime(new Date())}`);
    } catch (error) {
      saveFailed(error);
    } finally {
      state.saving = null;
    }
  })();
  await state.saving;
}

function saveFailed(error) {
  if (error.status === 409 && error.code !== "not_ready") {
    enterConflict();
    return;
  }
  if (error.status === 401) {
    state.blocked = "signed-out";
    setSaveState("error", "保存できません(ログイン切れ)");
    showBanner(
      "error",
      "save",
      "ログインの有効期限が切れたため保存できませんでした。変更はこの画面に残っています。",
      h("br"),
      h("a", { class: "btn btn-small", href: loginUrl(), target: "_blank", rel: "noopener" }, "別のタブでログイン"),
      h("button", { class: "btn btn-small btn-primary", type: "button", onclick: () => saveNow() }, "もう一度保存"),
    );
    state.blocked = "signed-out";
    return;
  }
  if (error.status === 422 || error.status === 413 || error.status === 403 || error.status === 404) {
    state.blocked = "refused";
    setSaveState("error", "保存できませんでした");
    showBanner("error", "save", `保存できませんでした: ${errorText(error)}`);
    return;
  }
  // The network or the server: try again by itself, more slowly each time.
  state.retryMs = Math.min(60000, state.retryMs ? state.retryMs * 2 : 5000);
  setSaveState("error", "保存できませんでした(再試行します)");
  showBanner(
    "warning",
    "save",
    `${errorText(error)} 変更はこの画面に残っています。${Math.round(state.retryMs / 1000)} 秒後にもう一度保存します。`,
  );
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => saveNow(), state.retryMs);
}

function enterConflict() {
  state.conflict = true;
  clearTimeout(saveTimer);
  setSaveState("conflict", "保存を止めています");
  setEditable();
  showBanner(
    "error",
    "conflict",
    h("strong", {}, "他の人がこの記録を先に保存しました。"),
    " 上書きしないよう、この画面の変更は保存していません(この画面には残っています)。",
    "最新の版を読み込んでから編集を続けてください。必要なら先に自分の編集内容を控えてください。",
    h("br"),
    h("button", { class: "btn btn-small btn-primary", type: "button", onclick: reloadLatest }, "最新の版を読み込む"),
    h("button", { class: "btn btn-small", type: "button", onclick: downloadMine }, "自分の編集内容をテキストで保存"),
  );
  announce("他の人が先に保存したため、保存を止めました。");
}

async function reloadLatest() {
  if (state.dirty && !confirm("この画面の保存されていない変更は失われます。最新の版を読み込みますか?")) return;
  state.dirty = false;
  state.conflict = false;
  state.blocked = "";
  hideBanner();
  await load();
  announce("最新の版を読み込みました。");
}

function downloadMine() {
  const text = T.plainText(state.speakers, state.segs, formatClock);
  const blob = new Blob([text], { type: "text/plain;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  els.download.href = url;
  els.download.download = `${state.header.title || "記録"}-未保存の編集.txt`;
  els.download.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function setEditable() {
  const value = editable() ? EDITABLE : "false";
  for (const el of els.transcript.querySelectorAll(".utt-text")) el.contentEditable = value;
  for (const field of els.headerForm.querySelectorAll("[data-key]")) field.disabled = !editable();
  for (const input of els.speakers.querySelectorAll("input")) input.disabled = !editable();
  els.addSpeaker.disabled = !editable();
  for (const id of ["split", "merge", "replace-one", "replace-all"]) $(id).disabled = !editable();
  for (const id of ["find-open", "fillers", "next-low", "review-open", "term-add"]) $(id).disabled = !state.loaded;
  renderCorrections();
}

// --- banner ---------------------------------------------------------------------------------------

function showBanner(kind, topic, ...content) {
  els.banner.className = `ed-banner alert alert-${kind}`;
  els.banner.dataset.topic = topic;
  els.banner.setAttribute("role", kind === "error" ? "alert" : "status");
  els.banner.replaceChildren(...content);
  els.banner.hidden = false;
}

function hideBanner(topic) {
  if (topic && els.banner.dataset.topic !== topic) return;
  els.banner.hidden = true;
  els.banner.replaceChildren();
  els.banner.dataset.topic = "";
}

// --- editing ---------------------------------------------------------------------------------------

function onInput(event) {
  const started = performance.now();
  const el = event.target.closest?.(".utt-text");
  const seg = el && segOf(el);
  if (!seg) return;
  const corrections = seg.corr.length;
  const composing = event.isComposing || event.type === "compositionstart";
  if (T.setText(seg, readText(el)) || (event.type === "compositionend" && seg._composed)) {
    // While the IME is converting, the text holds unconverted kana: saved once the clerk confirms it.
    seg._composed = composing;
    if (!composing) markDirty();
    if (seg.corr.length !== corrections) refreshSidePanels();
    if (find.open) scheduleFind();
  }
  const spent = performance.now() - started;
  metrics.inputs++;
  metrics.inputTotalMs += spent;
  metrics.inputMaxMs = Math.max(metrics.inputMaxMs, spent);
}

function splitAt(el) {
  const seg = segOf(el);
  if (!seg || !editable()) return;
  const offset = caretOffset(el);
  if (offset === null) return;
  const parts = T.splitSegment(seg, offset);
  if (!parts) {
    announce("発言の先頭や末尾では分割できません。文の途中にカーソルを置いてください。");
    return;
  }
  replaceSegments(indexOf(seg), 1, parts);
  placeCaret(parts[1], 0);
  markDirty();
  announce("発言を分割しました。");
}

function mergeWithPrevious(seg) {
  const index = indexOf(seg);
  if (index <= 0 || !editable()) return;
  const prev = state.segs[index - 1];
  const joinAt = prev.text.length;
  const merged = T.mergeSegments(prev, seg);
  replaceSegments(index - 1, 2, [merged]);
  placeCaret(merged, joinAt);
  markDirty();
  announce(`前の発言(${speakerName(merged.speaker)})と結合しました。`);
}

function mergeWithNext(seg) {
  const index = indexOf(seg);
  if (index < 0 || index >= state.segs.length - 1 || !editable()) return;
  const joinAt = seg.text.length;
  const merged = T.mergeSegments(seg, state.segs[index + 1]);
  replaceSegments(index, 2, [merged]);
  placeCaret(merged, joinAt);
  markDirty();
  announce("次の発言と結合しました。");
}

function currentSeg() {
  const active = document.activeElement;
  const fromFocus = active && els.transcript.contains(active) ? segOf(active) : null;
  return fromFocus || state.byUid.get(state.currentUid) || state.byUid.get(state.playingUid) || state.segs[0] || null;
}

function undoCorrection(seg, correction) {
  if (!editable()) return;
  if (!T.undoCorrection(seg, correction)) return;
  rerenderText(seg);
  markDirty();
  refreshSidePanels();
  closePopover();
  announce(`「${correction.after}」を「${correction.before}」に戻しました。`);
}

function setSpeaker(seg, id) {
  if (!editable() || seg.speaker === id) return;
  seg.speaker = id;
  updateRowSpeaker(seg);
  updateSpeakerCounts();
  markDirty();
  announce(`話者を ${speakerName(id)} に変えました。`);
}

els.transcript.addEventListener("input", onInput);
els.transcript.addEventListener("compositionend", onInput);

els.transcript.addEventListener("keydown", (event) => {
  const el = event.target.closest?.(".utt-text");
  if (!el || event.isComposing || event.keyCode === 229) return;
  const plain = !event.ctrlKey && !event.altKey && !event.metaKey;
  if (event.key === "Enter") {
    event.preventDefault(); // one utterance is one line
    if (plain && !event.shiftKey) splitAt(el);
    return;
  }
  if (!plain || event.shiftKey) return;
  const selection = getSelection();
  if (!selection?.isCollapsed) return;
  const seg = segOf(el);
  if (event.key === "Backspace" && caretOffset(el) === 0 && indexOf(seg) > 0) {
    event.preventDefault();
    mergeWithPrevious(seg);
  } else if (event.key === "Delete" && caretOffset(el) === readText(el).length) {
    event.preventDefault();
    mergeWithNext(seg);
  }
});

els.transcript.addEventListener("paste", (event) => {
  const el = event.target.closest?.(".utt-text");
  if (!el) return;
  event.preventDefault();
  if (!editable()) return;
  const text = (event.clipboardData?.getData("text/plain") || "").replace(/\r?\n/g, " ");
  document.execCommand("insertText", false, text);
});

els.transcript.addEventListener("focusin", (event) => {
  const seg = segOf(event.target);
  if (seg) state.currentUid = seg.uid;
});

els.transcript.addEventListener("focusout", (event) => {
  const el = event.target.closest?.(".utt-text");
  const seg = el && segOf(el);
  // Marks (low-confidence words, corrections) follow the text once the caret has left the row.
  if (seg && seg._rendered !== seg.text && !find.open) rerenderText(seg);
});

els.transcript.addEventListener("click", (event) => {
  const time = event.target.closest(".utt-time");
  const speaker = event.target.closest(".utt-speaker");
  const corr = event.target.closest(".corr");
  const seg = segOf(event.target);
  if (!seg) return;
  state.currentUid = seg.uid;
  if (time) {
    seekTo(seg.start, true);
    return;
  }
  if (speaker) {
    openSpeakerMenu(seg, speaker);
    return;
  }
  if (corr && corr.dataset.ci !== undefined) {
    const c = seg.corr[Number(corr.dataset.ci)];
    if (c && seg.text.slice(c.start, c.end) === c.after) openCorrectionPopover(seg, c, corr);
  }
  const el = event.target.closest(".utt-text");
  if (el && audioUsable() && els.audio.paused) {
    const offset = caretOffset(el);
    seekTo(T.timeAt(seg, offset ?? 0), false);
  }
});

$("split").addEventListener("click", () => {
  const seg = currentSeg();
  const el = seg && textEl(seg);
  if (!el || caretOffset(el) === null) {
    announce("分割する位置(発言の文の中)にカーソルを置いてから押してください。");
    return;
  }
  splitAt(el);
});

$("merge").addEventListener("click", () => {
  const seg = currentSeg();
  if (!seg || indexOf(seg) <= 0) {
    announce("結合する発言(2つ目以降)を選んでから押してください。");
    return;
  }
  mergeWithPrevious(seg);
});

$("next-low").addEventListener("click", () => {
  if (!state.segs.length) return;
  const from = currentSeg();
  let index = from ? indexOf(from) : 0;
  const el = from && textEl(from);
  let after = el && el.contains(document.activeElement) ? (caretOffset(el, true) ?? 0) : 0;
  for (let n = 0; n <= state.segs.length; n++) {
    const seg = state.segs[index];
    const next = T.lowConfidenceSpans(seg).find((s) => s.start >= after);
    if (next) {
      goToSegment(seg, next.start, next.end);
      if (audioUsable() && els.audio.paused) seekTo(Number(next.word.start) || seg.start, false);
      announce(`要確認の語「${seg.text.slice(next.start, next.end)}」`);
      return;
    }
    index = (index + 1) % state.segs.length;
    after = 0;
  }
  announce("要確認の語はありません。");
});

function goToSegment(seg, start = 0, end = start) {
  state.currentUid = seg.uid;
  const row = state.rows.get(seg.uid);
  row?.scrollIntoView({ block: "center" });
  placeCaret(seg, start, end);
}

els.headerForm.addEventListener("input", (event) => {
  const key = event.target.dataset?.key;
  if (!key || !editable()) return;
  state.header[key] = event.target.value;
  if (key === "title") els.title.textContent = event.target.value || "(無題)";
  markDirty();
});

els.addSpeaker.addEventListener("click", () => {
  if (editable()) addSpeaker();
});

// --- popovers (speaker menu, correction) -----------------------------------------------------------

let popoverReturn = null;

function openPopover(anchor, children, label) {
  els.popover.replaceChildren(...children);
  els.popover.setAttribute("aria-label", label);
  els.popover.hidden = false;
  const r = anchor.getBoundingClientRect();
  const height = els.popover.offsetHeight;
  const top = r.bottom + 4 + height > innerHeight ? Math.max(8, r.top - height - 4) : r.bottom + 4;
  els.popover.style.top = `${top}px`;
  els.popover.style.left = `${Math.min(r.left, innerWidth - els.popover.offsetWidth - 8)}px`;
  popoverReturn = anchor;
}

function closePopover(restoreFocus = true) {
  if (els.popover.hidden) return;
  els.popover.hidden = true;
  els.popover.replaceChildren();
  if (restoreFocus && popoverReturn?.isConnected) popoverReturn.focus();
  popoverReturn = null;
}

function openSpeakerMenu(seg, button) {
  if (!editable()) {
    announce("いまは話者を変えられません。");
    return;
  }
  const items = state.speakers.map((s, i) =>
    h(
      "button",
      {
        type: "button",
        class: "menu-item",
        role: "menuitemradio",
        "aria-checked": String(s.id === seg.speaker),
        onclick: () => {
          closePopover();
          setSpeaker(seg, s.id);
        },
      },
      h("span", { class: `spk-id spk-${i % SPEAKER_COLOURS}` }, " "),
      s.name ? `${s.name}(${s.id})` : s.id,
    ),
  );
  items.push(h("div", { class: "menu-sep", role: "separator" }));
  items.push(
    h(
      "button",
      {
        type: "button",
        class: "menu-item",
        role: "menuitem",
        onclick: () => {
          closePopover(false);
          const id = addSpeaker();
          setSpeaker(seg, id);
        },
      },
      "＋ 新しい話者にする",
    ),
  );
  els.popover.setAttribute("role", "menu");
  openPopover(button, items, "話者を選ぶ");
  (els.popover.querySelector('[aria-checked="true"]') || els.popover.querySelector(".menu-item"))?.focus();
}

function openCorrectionPopover(seg, c, anchor) {
  els.popover.setAttribute("role", "dialog");
  openPopover(
    anchor,
    [
      h("p", {}, T.correctionReason(c)),
      h(
        "button",
        { type: "button", class: "menu-item", disabled: !editable(), onclick: () => undoCorrection(seg, c) },
        `元に戻す(「${c.before}」にする)`,
      ),
      h("button", { type: "button", class: "menu-item", onclick: () => closePopover() }, "このままにする"),
      h(
        "button",
        {
          type: "button",
          class: "menu-item",
          onclick: () => {
            closePopover(false);
            proposeTerm(seg, c.start, c.end, anchor);
          },
        },
        "辞書に追加…(部署の用語辞書に提案)",
      ),
    ],
    "辞書による修正",
  );
  els.popover.querySelector(".menu-item")?.focus();
}

els.popover.addEventListener("keydown", (event) => {
  const items = [...els.popover.querySelectorAll(".menu-item:not([disabled])")];
  const at = items.indexOf(document.activeElement);
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    items[(at + step + items.length) % items.length]?.focus();
  } else if (event.key === "Tab") {
    closePopover(false);
  }
});

document.addEventListener("mousedown", (event) => {
  if (!els.popover.hidden && !els.popover.contains(event.target)) closePopover(false);
});

// --- audio ---------------------------------------------------------------------------------------

function audioUsable() {
  return Boolean(DATA.audio) && !els.audio.error;
}

function seekTo(time, play) {
  if (!audioUsable()) return;
  els.audio.currentTime = Math.max(0, time);
  if (play && els.audio.paused) els.audio.play().catch(() => {});
  updatePlaying(true);
}

function togglePlay() {
  if (!audioUsable()) {
    announce("この記録の音声は再生できません。");
    return;
  }
  if (els.audio.paused) els.audio.play().catch(() => announce("再生を始められませんでした。"));
  else els.audio.pause();
}

function skip(seconds) {
  if (!audioUsable()) return;
  const duration = Number.isFinite(els.audio.duration) ? els.audio.duration : Number.POSITIVE_INFINITY;
  els.audio.currentTime = Math.min(duration, Math.max(0, els.audio.currentTime + seconds));
  updatePlaying(true);
}

function moveUtterance(step) {
  const seg = currentSeg();
  if (!seg) return;
  const index = Math.min(state.segs.length - 1, Math.max(0, indexOf(seg) + step));
  const target = state.segs[index];
  state.currentUid = target.uid;
  if (audioUsable()) seekTo(target.start, false);
  placeCaret(target, 0);
}

function updatePlaying(force) {
  if (!state.segs.length) return;
  const index = T.segmentAt(state.segs, els.audio.currentTime + 0.05);
  const seg = state.segs[Math.max(0, index)];
  if (!seg) return;
  if (seg.uid !== state.playingUid) {
    const previous = state.playingUid;
    state.rows.get(previous)?.classList.remove("playing");
    state.rows.get(seg.uid)?.classList.add("playing");
    state.playingUid = seg.uid;
    if (!els.audio.paused || force) follow(seg, previous);
  }
}

function follow(seg, previousUid) {
  if (!els.follow.checked) return;
  const row = state.rows.get(seg.uid);
  if (!row) return;
  // Never pull the view away from a row the clerk is editing (other than the one just played).
  const editing = segOf(document.activeElement);
  if (editing && editing.uid !== seg.uid && editing.uid !== previousUid && els.transcript.contains(document.activeElement)) {
    return;
  }
  scrollIntoViewIfNeeded(row, "center");
}

els.audio.addEventListener("timeupdate", () => updatePlaying(false));
els.audio.addEventListener("seeked", () => updatePlaying(true));
els.audio.addEventListener("play", () => {
  els.play.textContent = "❚❚ 一時停止";
  els.play.setAttribute("aria-label", "一時停止");
});
els.audio.addEventListener("pause", () => {
  els.play.textContent = "▶ 再生";
  els.play.setAttribute("aria-label", "再生");
});
els.audio.addEventListener("error", () => {
  if (!DATA.audio) return;
  for (const b of [els.play, els.back5, els.fwd5]) b.disabled = true;
  showBanner(
    "warning",
    "audio",
    "この録音はブラウザで再生できない形式か、読み込めませんでした。文字の編集と書き出しはできます。",
  );
});
els.play.addEventListener("click", togglePlay);
els.back5.addEventListener("click", () => skip(-5));
els.fwd5.addEventListener("click", () => skip(5));
els.speed.addEventListener("change", () => {
  const rate = Number(els.speed.value) || 1;
  els.audio.playbackRate = rate;
  els.audio.defaultPlaybackRate = rate;
  try {
    localStorage.setItem("kiroku:speed", String(rate));
  } catch {
    // Private windows may refuse storage; the speed still applies now.
  }
});
els.audio.addEventListener("loadedmetadata", () => {
  els.audio.playbackRate = Number(els.speed.value) || 1;
});

function setUpAudio() {
  try {
    const saved = localStorage.getItem("kiroku:speed");
    if (saved && [...els.speed.options].some((o) => o.value === saved)) els.speed.value = saved;
  } catch {
    // no storage: default speed
  }
  if (DATA.audio) {
    els.audio.src = `${BASE}/audio`;
    els.audio.playbackRate = Number(els.speed.value) || 1;
    for (const b of [els.play, els.back5, els.fwd5]) b.disabled = false;
  } else {
    els.audio.hidden = true;
    showBanner(
      "info",
      "audio",
      "音声は保存期間を過ぎたため削除されています。文字の編集と書き出しはできます。",
    );
  }
}

// --- keyboard shortcuts (they work while typing in an utterance) ---------------------------------

document.addEventListener(
  "keydown",
  (event) => {
    if (event.isComposing || event.keyCode === 229) return; // the IME's own keys (変換中の Esc/Enter)
    if (els.revisions.open || termDialog.isOpen) return; // a dialog's own keys (Esc closes it)
    const ctrl = event.ctrlKey || event.metaKey;
    if (event.altKey && !ctrl && !event.shiftKey && event.code === "KeyK" && state.loaded) {
      event.preventDefault();
      review.shortcut();
      return;
    }
    if (event.key === "Escape" && !ctrl && !event.altKey) {
      event.preventDefault();
      if (!els.popover.hidden) closePopover();
      else if (review.escape()) return;
      else if (find.open && els.findBar.contains(document.activeElement)) closeFind();
      else togglePlay();
      return;
    }
    if (ctrl && !event.altKey && (event.code === "Space" || event.key === " ")) {
      event.preventDefault();
      togglePlay();
      return;
    }
    if (event.altKey && !ctrl && !event.shiftKey) {
      const actions = {
        ArrowLeft: () => skip(-5),
        ArrowRight: () => skip(5),
        ArrowUp: () => moveUtterance(-1),
        ArrowDown: () => moveUtterance(1),
      };
      if (actions[event.key]) {
        event.preventDefault();
        actions[event.key]();
      }
      return;
    }
    if (ctrl && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      if (state.dirty) saveNow();
      else announce("保存済みです。");
      return;
    }
    if (ctrl && !event.altKey && event.key.toLowerCase() === "f" && state.loaded) {
      event.preventDefault();
      openFind();
    }
  },
  true,
);

// --- find and replace -----------------------------------------------------------------------------

const find = { open: false, matches: [], current: -1 };
const HIGHLIGHTS = typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight !== "undefined";
let findTimer = 0;

function scheduleFind() {
  clearTimeout(findTimer);
  findTimer = setTimeout(() => runFind(true), 250);
}

function openFind() {
  find.open = true;
  els.findBar.hidden = false;
  els.findOpen.setAttribute("aria-expanded", "true");
  const selection = getSelection();
  const picked = selection && !selection.isCollapsed ? selection.toString().trim() : "";
  if (picked && picked.length < 100 && !picked.includes("\n")) els.findQ.value = picked;
  els.findQ.focus();
  els.findQ.select();
  runFind(false);
}

function closeFind() {
  find.open = false;
  els.findBar.hidden = true;
  els.findOpen.setAttribute("aria-expanded", "false");
  clearFindMarks();
  find.matches = [];
  find.current = -1;
  const seg = state.byUid.get(state.currentUid);
  if (seg) textEl(seg)?.focus({ preventScroll: true });
  else els.findOpen.focus();
}

function clearFindMarks() {
  if (HIGHLIGHTS) {
    CSS.highlights.delete("find-all");
    CSS.highlights.delete("find-current");
  }
  for (const row of els.transcript.querySelectorAll(".utt.find-hit")) row.classList.remove("find-hit");
}

function runFind(keepPlace) {
  const query = els.findQ.value;
  const previous = find.matches[find.current];
  find.matches = T.findAll(state.segs, query);
  if (!find.matches.length) {
    find.current = -1;
  } else if (keepPlace && previous) {
    const at = indexOf(previous.seg);
    const k = find.matches.findIndex((m) => m.index > at || (m.index === at && m.start >= previous.start));
    find.current = k < 0 ? 0 : k;
  } else {
    const seg = currentSeg();
    const at = seg ? indexOf(seg) : 0;
    const k = find.matches.findIndex((m) => m.index >= at);
    find.current = k < 0 ? 0 : k;
  }
  paintFind(!keepPlace);
}

function paintFind(scroll) {
  clearFindMarks();
  const total = find.matches.length;
  if (!els.findQ.value) els.findCount.textContent = "";
  else if (!total) els.findCount.textContent = "見つかりません";
  else els.findCount.textContent = `${find.current + 1} / ${total} 件`;
  if (!total) return;
  const current = find.matches[find.current];
  if (HIGHLIGHTS) {
    const ranges = [];
    for (const m of find.matches.slice(0, 3000)) {
      const el = textEl(m.seg);
      if (el) ranges.push(rangeFor(el, m.start, m.end));
    }
    CSS.highlights.set("find-all", new Highlight(...ranges));
    const el = textEl(current.seg);
    if (el) CSS.highlights.set("find-current", new Highlight(rangeFor(el, current.start, current.end)));
  } else {
    state.rows.get(current.seg.uid)?.classList.add("find-hit");
  }
  if (scroll) state.rows.get(current.seg.uid)?.scrollIntoView({ block: "center" });
}

function stepFind(step) {
  if (!find.matches.length) return;
  find.current = (find.current + step + find.matches.length) % find.matches.length;
  state.currentUid = find.matches[find.current].seg.uid;
  paintFind(true);
}

function replaceOne() {
  if (!editable()) return;
  const match = find.matches[find.current];
  const query = els.findQ.value;
  if (!match || match.seg.text.slice(match.start, match.end) !== query) return runFind(true);
  const replacement = els.findR.value;
  T.replaceRange(match.seg, match.start, match.end, replacement);
  rerenderText(match.seg);
  markDirty();
  refreshSidePanels();
  const at = match.index;
  const after = match.start + replacement.length;
  find.matches = T.findAll(state.segs, query);
  const k = find.matches.findIndex((m) => m.index > at || (m.index === at && m.start >= after));
  find.current = find.matches.length ? (k < 0 ? 0 : k) : -1;
  paintFind(true);
  announce(`1 件置換しました。残り ${find.matches.length} 件。`);
}

function replaceAll() {
  if (!editable()) return;
  const query = els.findQ.value;
  const matches = T.findAll(state.segs, query);
  if (!query || !matches.length) return;
  const replacement = els.findR.value;
  if (!confirm(`「${query}」を「${replacement}」に ${matches.length} 件置換します。よろしいですか?`)) return;
  const bySeg = new Map();
  for (const m of matches) {
    if (!bySeg.has(m.seg)) bySeg.set(m.seg, []);
    bySeg.get(m.seg).push(m);
  }
  for (const [seg, list] of bySeg) {
    for (const m of list.reverse()) T.replaceRange(seg, m.start, m.end, replacement);
    rerenderText(seg);
  }
  markDirty();
  refreshSidePanels();
  runFind(false);
  announce(`${matches.length} 件置換しました。`);
}

els.findOpen.addEventListener("click", () => (find.open ? closeFind() : openFind()));
els.findQ.addEventListener("input", () => {
  clearTimeout(findTimer);
  findTimer = setTimeout(() => runFind(false), 150);
});
els.findQ.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.isComposing) {
    event.preventDefault();
    stepFind(event.shiftKey ? -1 : 1);
  }
});
$("find-next").addEventListener("click", () => stepFind(1));
$("find-prev").addEventListener("click", () => stepFind(-1));
$("find-close").addEventListener("click", closeFind);
$("replace-one").addEventListener("click", replaceOne);
$("replace-all").addEventListener("click", replaceAll);

// --- ケバ取り (display only) -----------------------------------------------------------------------

els.fillers.addEventListener("click", () => {
  state.hideFillers = !state.hideFillers;
  els.fillers.setAttribute("aria-pressed", String(state.hideFillers));
  document.body.classList.toggle("hide-fillers", state.hideFillers);
  renderAll();
  setEditable();
  if (state.hideFillers) {
    showBanner(
      "info",
      "fillers",
      "ケバ取り表示中: 「えー」「あのー」などを隠して表示しています。保存される文章は変わりません。",
      "編集するときは「ケバ取り表示」をもう一度押して戻してください。",
    );
  } else {
    hideBanner("fillers");
  }
  announce(state.hideFillers ? "ケバ取り表示にしました(編集はできません)。" : "元の表示に戻しました。");
});

// --- revisions ------------------------------------------------------------------------------------

async function openRevisions() {
  els.revisionsError.hidden = true;
  els.revisionsList.replaceChildren(h("li", {}, "読み込み中…"));
  els.revisions.showModal();
  try {
    const [revisions, names] = await Promise.all([api(`${BASE}/minutes/revisions`), people()]);
    const items = [...revisions].reverse().map((r) => revisionItem(r, names));
    items.push(
      revisionItem({ revision: 0, author_id: null, created_at: state.recording?.finished_at || null }, names),
    );
    els.revisionsList.replaceChildren(...items);
  } catch (error) {
    els.revisionsList.replaceChildren();
    els.revisionsError.textContent = errorText(error);
    els.revisionsError.hidden = false;
  }
}

function revisionItem(r, names) {
  const current = r.revision === state.revision;
  const who = r.revision === 0 ? "自動の文字起こし" : `保存: ${names.users[String(r.author_id)] || "—"}`;
  return h(
    "li",
    {},
    h("span", { class: "rev-no" }, `版 ${r.revision}`),
    h("span", { class: "rev-meta" }, `${r.created_at ? formatDateTime(r.created_at) : ""} ${who}`),
    current
      ? h("span", { class: "current" }, "現在の版")
      : h(
          "button",
          {
            type: "button",
            class: "btn btn-small",
            disabled: state.conflict,
            onclick: () => restoreRevision(r.revision),
          },
          "この版に戻す",
        ),
  );
}

async function restoreRevision(number) {
  if (!confirm(`版 ${number} の内容に戻します。今の内容も版の履歴に残ります。よろしいですか?`)) return;
  try {
    if (state.dirty) await saveNow();
    if (state.conflict || state.dirty) return;
    const body = await api(`${BASE}/minutes/revisions/${number}`);
    const saved = await putMinutes({ header: body.header, transcript: body.transcript });
    applyMinutes(saved);
    els.revisions.close();
    setSaveState("saved", `保存済み ${formatTime(new Date())}`);
    announce(`版 ${number} の内容に戻しました(版 ${saved.revision} として保存)。`);
  } catch (error) {
    if (error.status === 409) {
      els.revisions.close();
      enterConflict();
      return;
    }
    els.revisionsError.textContent = errorText(error);
    els.revisionsError.hidden = false;
  }
}

$("revisions-open").addEventListener("click", openRevisions);
els.revisions.addEventListener("click", (event) => {
  if (event.target.closest("[data-close]") || event.target === els.revisions) els.revisions.close();
});

// --- export ---------------------------------------------------------------------------------------

async function exportAs(format, button) {
  button.disabled = true;
  try {
    if (state.dirty || state.saving) await saveNow();
    if (state.conflict) {
      announce("他の人の保存と重なっているため、書き出す前に最新の版を読み込んでください。");
      return;
    }
    if (state.dirty) {
      showBanner("warning", "export", "保存できていない変更があるため、書き出しを止めました。保存できてからもう一度押してください。");
      return;
    }
    const response = await api(`${BASE}/export?format=${format}`, { raw: true, redirectOn401: false });
    await saveDownload(response, els.download, `recording-${RID}.${format}`);
    announce(`${format.toUpperCase()} で書き出しました。`);
  } catch (error) {
    showBanner("error", "export", `書き出せませんでした: ${errorText(error)}`);
  } finally {
    button.disabled = false;
  }
}

for (const button of document.querySelectorAll("[data-format]")) {
  button.addEventListener("click", () => exportAs(button.dataset.format, button));
}

window.addEventListener("beforeunload", (event) => {
  if (state.dirty || state.saving) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// --- loading --------------------------------------------------------------------------------------

function applyMinutes(minutes) {
  const transcript = minutes.transcript || {};
  const { segments, speakers } = T.fromTranscript(transcript);
  const { segments: _s, speakers: _p, corrections: _c, ...rest } = transcript;
  state.rest = rest;
  state.header = { ...(minutes.header || {}) };
  state.segs = segments;
  state.speakers = speakers;
  state.revision = minutes.revision ?? 0;
  state.dirty = false;
  state.conflict = false;
  state.blocked = "";
  state.loaded = true;
  state.playingUid = null;
  els.revisionLabel.textContent = `版 ${state.revision}`;
  renderAll();
  fillHeader();
  renderSpeakers();
  renderCorrections();
  updateLowCount();
  setEditable();
  updatePlaying(false);
}

function describeRecording(recording) {
  const when = recording.held_at ? formatDateTime(recording.held_at) : "";
  els.when.textContent = when;
}

function showPending(recording) {
  const percent = Math.round((recording.progress || 0) * 100);
  const failed = recording.status === "failed" || recording.status === "canceled";
  const waiting = recording.status === "running" ? "文字起こし中です。" : "文字起こしの順番を待っています。";
  els.transcript.replaceChildren(
    h(
      "div",
      { class: "pending" },
      failed
        ? h(
            "p",
            { class: "alert alert-error", role: "alert" },
            recording.status === "failed"
              ? `文字起こしに失敗しました: ${recording.error || "原因不明のエラー"}`
              : "文字起こしは取り消されました。",
          )
        : [
            h("p", {}, `${waiting}終わると自動でここに表示します。この画面は開いたままで構いません。`),
            h(
              "p",
              {},
              h("progress", { max: 100, value: percent, "aria-label": "文字起こしの進み具合" }),
              ` ${STAGE_LABELS[recording.stage] || ""} ${percent}%`,
            ),
          ],
      h("p", {}, h("a", { href: "/" }, "記録一覧へ戻る")),
    ),
  );
  setSaveState("idle", failed ? "編集できません" : "文字起こし待ち");
  if (!failed) setTimeout(pollUntilReady, 2000);
}

/** While the transcript is being made: the (cheap, unaudited) status only, then the minutes once. */
async function pollUntilReady() {
  try {
    const recording = await api(BASE);
    if (recording.status === "succeeded") {
      await load();
      announce("文字起こしが完了しました。編集できます。");
      return;
    }
    showPending(recording);
  } catch {
    setTimeout(pollUntilReady, 5000);
  }
}

let jumped = false; // ?t= applies to the first load only, not to reloading the latest version

async function load() {
  const started = performance.now();
  setSaveState("idle", "読み込み中…");
  let recording;
  let minutes;
  try {
    [recording, minutes] = await Promise.all([
      api(BASE),
      api(`${BASE}/minutes`).catch((error) => {
        if (error.status === 409) return null;
        throw error;
      }),
    ]);
  } catch (error) {
    els.transcript.replaceChildren(h("p", { class: "alert alert-error", role: "alert" }, errorText(error)));
    setSaveState("error", "読み込めませんでした");
    return;
  }
  state.recording = recording;
  describeRecording(recording);
  if (!minutes) {
    showPending(recording);
    return;
  }
  const fetched = performance.now();
  applyMinutes(minutes);
  const rendered = performance.now();
  setSaveState("saved", state.revision ? "保存済み" : "自動の文字起こし(未編集)");
  for (const b of document.querySelectorAll("[data-format]")) b.disabled = false;
  $("revisions-open").disabled = false;
  if (!jumped) {
    jumped = true;
    jumpFromUrl();
  }
  metrics.fetchMs = fetched - started;
  metrics.renderMs = rendered - fetched;
  metrics.segments = state.segs.length;
  requestAnimationFrame(() =>
    setTimeout(() => {
      metrics.readyMs = performance.now();
      window.kirokuEditor.ready = true;
      document.body.dataset.ready = "true";
    }, 0),
  );
}

// --- 確認モード, 辞書に追加 --------------------------------------------------------------------------

let machinePromise = null;

/** The machine transcript (GET …/transcript), fetched once when review or 辞書に追加 first needs it. */
function machineTranscript() {
  if (!machinePromise) {
    machinePromise = api(`${BASE}/transcript`).catch((error) => {
      machinePromise = null;
      throw error;
    });
  }
  return machinePromise;
}

/** Open 「辞書に追加」 for characters [start, end) of an utterance, pre-filled from what the machine wrote there. */
async function proposeTerm(seg, start, end, from = document.activeElement) {
  let machine = null;
  try {
    machine = prepareMachine(await machineTranscript());
  } catch {
    // Without the machine's text the clerk types the wrong form herself.
  }
  let { term, before } = correctionAt(machine, seg, start, end);
  if (!before) [term, before] = ["", term]; // not changed yet: the machine's words are the wrong form
  termDialog.open({ term, before, segment: indexOf(seg), start, end }, from);
}

// The last selection (or caret) in an utterance: pressing a toolbar button may move it away.
let picked = null;
document.addEventListener("selectionchange", () => {
  const selection = getSelection();
  if (!selection || !selection.rangeCount) return;
  const node = selection.anchorNode;
  const el = (node?.nodeType === Node.ELEMENT_NODE ? node : node?.parentElement)?.closest(".utt-text");
  const seg = el && segOf(el);
  if (!seg || !el.contains(selection.focusNode)) return;
  const a = caretOffset(el);
  const b = caretOffset(el, true);
  if (a !== null && b !== null && b >= a) picked = { uid: seg.uid, start: a, end: b, text: seg.text };
});

$("term-add").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const seg = picked && state.byUid.get(picked.uid);
  if (seg && seg.text === picked.text) {
    if (picked.end > picked.start) {
      await proposeTerm(seg, picked.start, picked.end, button);
      return;
    }
    // Only a caret: the change just before it (what she has just typed), if there is one.
    const machine = await machineTranscript().then(prepareMachine, () => null);
    const draft = picked.start > 0 ? correctionAt(machine, seg, picked.start - 1, picked.start) : null;
    if (draft?.before) {
      termDialog.open({ ...draft, segment: indexOf(seg), start: picked.start - draft.term.length, end: picked.start }, button);
      return;
    }
  }
  announce("辞書に追加する語(直した語)を、文の中で選んでから押してください。");
  showBanner("info", "term", "辞書に追加する語(直した語)を、文の中でドラッグして選んでから「辞書に追加」を押してください。");
});

const termDialog = createTermDialog({
  recordingId: RID,
  onDone: (message) =>
    showBanner("success", "term", message, " ", h("a", { href: "/dictionaries#proposals" }, "辞書のページで見る")),
});

const review = createReview({
  segs: () => state.segs,
  rowOf: (seg) => state.rows.get(seg.uid),
  textEl,
  rangeFor,
  placeCaret,
  canEdit: editable,
  audio: els.audio,
  audioUsable,
  seek: (time) => seekTo(time, false),
  machine: machineTranscript,
  proposeTerm: (seg, start, end) => proposeTerm(seg, start, end, $("review-bar")),
  storageKey: `kiroku:review:${RID}`,
});

// --- ?t=<seconds>&q=<text>: open at that moment (links from the search page) ------------------------

const KANJI_DIGITS = "〇一二三四五六七八九";

/** Text folded for matching (full/half width, kana, kanji digits), with each folded character's source index. */
function fold(text) {
  let out = "";
  const from = [];
  for (let i = 0; i < text.length; i++) {
    const digit = KANJI_DIGITS.indexOf(text[i]);
    let piece = digit >= 0 ? String(digit) : text[i].normalize("NFKC").toLowerCase();
    piece = piece.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
    out += piece;
    for (let k = 0; k < piece.length; k++) from.push(i);
  }
  return { out, from };
}

/** Where ``query`` is in utterance ``index`` or its neighbours (the nearest first): {index, start, end}. */
function findNear(index, query) {
  const q = fold(query).out;
  if (!q) return null;
  for (const k of [index, index + 1, index - 1, index + 2, index - 2]) {
    const seg = state.segs[k];
    if (!seg) continue;
    const folded = fold(seg.text);
    const at = folded.out.indexOf(q);
    if (at >= 0) return { index: k, start: folded.from[at], end: folded.from[at + q.length - 1] + 1 };
  }
  return null;
}

function jumpFromUrl() {
  const params = new URLSearchParams(location.search);
  const time = Number(params.get("t"));
  if (!params.has("t") || !Number.isFinite(time) || time < 0 || !state.segs.length) return;
  const hit = findNear(Math.max(0, T.segmentAt(state.segs, time + 0.05)), (params.get("q") || "").slice(0, 200));
  const seg = state.segs[hit ? hit.index : Math.max(0, T.segmentAt(state.segs, time + 0.05))];
  const row = state.rows.get(seg.uid);
  state.currentUid = seg.uid;
  row.scrollIntoView({ block: "center" });
  placeCaret(seg, hit ? hit.start : 0);
  row.classList.add("jump-row");
  const el = textEl(seg);
  if (hit && el && HIGHLIGHTS) {
    CSS.highlights.set("jump-hit", new Highlight(rangeFor(el, hit.start, hit.end)));
    // The mark is for finding the place: once the clerk edits, it would no longer sit on those words.
    els.transcript.addEventListener("input", () => CSS.highlights.delete("jump-hit"), { once: true });
  }
  if (audioUsable()) {
    els.audio.currentTime = time; // no autoplay: the clerk presses ▶ when ready
    updatePlaying(false);
  }
  announce(`${formatClock(time)} の発言を開きました。${hit ? "検索した語に印を付けています。" : ""}`);
}

setUpAudio();
load();
