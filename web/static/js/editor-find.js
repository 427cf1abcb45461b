// 検索・置換 in the editor: the find bar (Ctrl+F), every match marked (CSS highlights where the
// browser has them, else the current match's row), stepping through matches, and replacing one or all.
import { $, HIGHLIGHTS, announce } from "./common.js";
import { rangeFor } from "./editor-view.js";
import * as T from "./transcript-model.js";

/** Find and replace of one editor page; ``ed`` is the page's shared context. */
export function createFind(ed) {
  const { els, state } = ed;
  const find = { open: false, matches: [], current: -1 };
  let findTimer = 0;

  /** Find again a moment after the text changed, keeping the place in the matches. */
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
    if (seg) ed.view.textEl(seg)?.focus({ preventScroll: true });
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
      const at = ed.view.indexOf(previous.seg);
      const k = find.matches.findIndex((m) => m.index > at || (m.index === at && m.start >= previous.start));
      find.current = k < 0 ? 0 : k;
    } else {
      const seg = ed.view.currentSeg();
      const at = seg ? ed.view.indexOf(seg) : 0;
      const k = find.matches.findIndex((m) => m.index >= at);
      find.current = k < 0 ? 0 : k;
    }
    paintFind(!keepPlace);
    ed.overview?.schedule();
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
        const el = ed.view.textEl(m.seg);
        if (el) ranges.push(rangeFor(el, m.start, m.end));
      }
      CSS.highlights.set("find-all", new Highlight(...ranges));
      const el = ed.view.textEl(current.seg);
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
    if (!ed.view.editable()) return;
    const match = find.matches[find.current];
    const query = els.findQ.value;
    if (!match || match.seg.text.slice(match.start, match.end) !== query) return runFind(true);
    const replacement = els.findR.value;
    T.replaceRange(match.seg, match.start, match.end, replacement);
    ed.view.rerenderText(match.seg);
    ed.save.markDirty();
    ed.view.refreshSidePanels();
    const at = match.index;
    const after = match.start + replacement.length;
    find.matches = T.findAll(state.segs, query);
    const k = find.matches.findIndex((m) => m.index > at || (m.index === at && m.start >= after));
    find.current = find.matches.length ? (k < 0 ? 0 : k) : -1;
    paintFind(true);
    announce(`1 件置換しました。残り ${find.matches.length} 件。`);
  }

  function replaceAll() {
    if (!ed.view.editable()) return;
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
      ed.view.rerenderText(seg);
    }
    ed.save.markDirty();
    ed.view.refreshSidePanels();
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

  return { isOpen: () => find.open, open: openFind, close: closeFind, schedule: scheduleFind, matches: () => find.matches };
}
