// The editor's transcript on the page: one row per utterance (rendered as HTML once, then row by row),
// character positions inside a row's text, the side panels that count what the rows hold
// (dictionary corrections, words to check), the header fields, the banner and whether editing is
// allowed now. It keeps no state of its own: everything is in ``ed.state``.
import { $, escapeHtml, formatClock, formatDateTime, h, parseServerTime, textOffset } from "./common.js";
import * as T from "./transcript-model.js";

export const SPEAKER_COLOURS = 8;

/** What an editable utterance's contenteditable is set to: plain text where the browser can. */
export const EDITABLE = (() => {
  const probe = document.createElement("div");
  try {
    probe.contentEditable = "plaintext-only";
    return probe.contentEditable === "plaintext-only" ? "plaintext-only" : "true";
  } catch {
    return "true";
  }
})();

/** The text of an utterance's element as the clerk sees it (one line, ordinary spaces). */
export function readText(el) {
  return el.textContent.replace(/\u00a0/g, " ").replace(/[\r\n]/g, "");
}

/** Character offset of the caret (selection start) inside a text element, or null. */
export function caretOffset(el, atEnd = false) {
  const selection = getSelection();
  if (!selection || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const node = atEnd ? range.endContainer : range.startContainer;
  if (!el.contains(node)) return null;
  return textOffset(el, node, atEnd ? range.endOffset : range.startOffset);
}

/** A DOM range over characters [start, end) of a text element. */
export function rangeFor(el, start, end) {
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

/** The view of one editor page; ``ed`` is the page's shared context (els, state, data, the parts). */
export function createView(ed) {
  const { els, state } = ed;
  let panelsTimer = 0;

  // --- finding segments and rows ----------------------------------------------------------------

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

  /** A speaker as the record calls them: the clerk's name, else the server's 発言者A … (the rule the
   * Word and text files follow, so the letter on screen is the letter in the file). The id only for a
   * speaker the server has not seen yet (just added, until the next save a moment later). */
  function speakerName(id) {
    const found = state.speakers.find((s) => s.id === id);
    return (found && found.name.trim()) || state.unnamed.get(id) || id;
  }

  /** Every utterance's speaker button after the labels changed (a save re-letters 発言者A …). */
  function refreshSpeakerNames() {
    for (const seg of state.segs) {
      const button = state.rows.get(seg.uid)?.querySelector(".utt-speaker");
      const name = speakerName(seg.speaker);
      if (button && button.textContent !== name) button.textContent = name;
    }
  }

  function editable() {
    // ケバ取り表示 too: the row being edited shows its fillers. Not while speakers are being relabelled.
    return !state.conflict && state.loaded && !state.relabelling;
  }

  /** The utterance being worked on: the focused one, else the last one touched, else the one playing. */
  function currentSeg() {
    const active = document.activeElement;
    const fromFocus = active && els.transcript.contains(active) ? segOf(active) : null;
    return fromFocus || state.byUid.get(state.currentUid) || state.byUid.get(state.playingUid) || state.segs[0] || null;
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

  function goToSegment(seg, start = 0, end = start) {
    state.currentUid = seg.uid;
    const row = state.rows.get(seg.uid);
    row?.scrollIntoView({ block: "center" });
    placeCaret(seg, start, end);
  }

  // --- rendering --------------------------------------------------------------------------------

  function textHtml(seg) {
    const text = seg.text;
    const marks = [];
    for (const s of ed.confidence.spans(seg)) marks.push({ start: s.start, end: s.end, kind: "low", degree: s.degree });
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
      const classes = [...new Set(active.map((m) => (m.degree ? `low low-${m.degree}` : m.kind)))];
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
    ed.audio.updatePlaying(false);
    refreshSidePanels();
  }

  // --- side panels ------------------------------------------------------------------------------

  function refreshSidePanels() {
    clearTimeout(panelsTimer);
    panelsTimer = setTimeout(() => {
      renderCorrections();
      ed.speakers.updateCounts();
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
              { type: "button", class: "btn btn-small", disabled: !editable(), onclick: () => ed.edit.undoCorrection(seg, c) },
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
    for (const seg of state.segs) n += ed.confidence.spans(seg).length;
    els.lowCount.textContent = `(${n})`;
  }

  /** Fields the record holds but its kind does not list (entered at upload through the API). */
  function addExtraFields() {
    const box = $("header-extra");
    if (!box) return;
    box.replaceChildren();
    const listed = new Set([...els.headerForm.querySelectorAll("[data-key]")].map((f) => f.dataset.key));
    for (const [key, value] of Object.entries(state.header)) {
      if (listed.has(key) || typeof value !== "string" || !value.trim() || !/^[a-z_]{1,40}$/.test(key)) continue;
      const id = `hf-${key}`;
      box.append(
        h(
          "div",
          { class: "field" },
          h("label", { for: id }, (ed.data.other_labels || {})[key] || key),
          h("textarea", { id, rows: 2, maxlength: 2000, "data-key": key }),
        ),
      );
    }
  }

  function fillHeader() {
    addExtraFields();
    for (const field of els.headerForm.querySelectorAll("[data-key]")) {
      let value = state.header[field.dataset.key] ?? "";
      if (field.dataset.key === "held_at" && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
        value = formatDateTime(parseServerTime(value)); // shown (and saved) the way minutes write it
        state.header.held_at = value;
      }
      field.value = value;
      field.disabled = !editable();
    }
    const title = state.header.title || ed.data.title || "(無題)";
    els.title.textContent = title;
    document.title = `${title} の編集 | kiroku 記録`;
  }

  /** Make every control follow ``editable()`` (after loading, a conflict, ケバ取り). */
  function setEditable() {
    const value = editable() ? EDITABLE : "false";
    for (const el of els.transcript.querySelectorAll(".utt-text")) el.contentEditable = value;
    for (const field of els.headerForm.querySelectorAll("[data-key]")) field.disabled = !editable();
    for (const input of els.speakers.querySelectorAll("input")) input.disabled = !editable();
    els.addSpeaker.disabled = !editable();
    ed.speakers?.renderTools();
    for (const id of ["split", "merge", "replace-one", "replace-all"]) $(id).disabled = !editable();
    for (const id of ["find-open", "fillers", "next-low", "review-open", "term-add"]) $(id).disabled = !state.loaded;
    renderCorrections();
  }

  // --- banner -----------------------------------------------------------------------------------

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

  return {
    indexOf,
    segOf,
    textEl,
    speakerName,
    refreshSpeakerNames,
    editable,
    currentSeg,
    placeCaret,
    scrollIntoViewIfNeeded,
    goToSegment,
    renderAll,
    rerenderText,
    updateRowSpeaker,
    replaceSegments,
    refreshSidePanels,
    renderCorrections,
    updateLowCount,
    fillHeader,
    setEditable,
    showBanner,
    hideBanner,
  };
}
