// Editing the transcript: typing in an utterance (the IME's conversion saved once confirmed), Enter to
// split, Backspace/Delete at the edges to merge, plain-text paste, clicks on a row (time → play, speaker
// → menu, a dictionary correction → its choices), the toolbar's split, merge, 次の要確認語へ and
// ケバ取り表示, and the header fields.
import { $, announce, h } from "./common.js";
import { caretOffset, readText } from "./editor-view.js";
import * as T from "./transcript-model.js";

/** Editing of one editor page; ``ed`` is the page's shared context. */
export function createEdit(ed) {
  const { els, state, metrics, view } = ed;

  function onInput(event) {
    const started = performance.now();
    const el = event.target.closest?.(".utt-text");
    const seg = el && view.segOf(el);
    if (!seg) return;
    const corrections = seg.corr.length;
    const composing = event.isComposing || event.type === "compositionstart";
    if (T.setText(seg, readText(el)) || (event.type === "compositionend" && seg._composed)) {
      // While the IME is converting, the text holds unconverted kana: saved once the clerk confirms it.
      seg._composed = composing;
      if (!composing) ed.save.markDirty();
      if (seg.corr.length !== corrections) view.refreshSidePanels();
      if (ed.find.isOpen()) ed.find.schedule();
    }
    const spent = performance.now() - started;
    metrics.inputs++;
    metrics.inputTotalMs += spent;
    metrics.inputMaxMs = Math.max(metrics.inputMaxMs, spent);
  }

  function splitAt(el) {
    const seg = view.segOf(el);
    if (!seg || !view.editable()) return;
    const offset = caretOffset(el);
    if (offset === null) return;
    const parts = T.splitSegment(seg, offset);
    if (!parts) {
      announce("発言の先頭や末尾では分割できません。文の途中にカーソルを置いてください。");
      return;
    }
    view.replaceSegments(view.indexOf(seg), 1, parts);
    view.placeCaret(parts[1], 0);
    ed.save.markDirty();
    announce("発言を分割しました。");
  }

  /** Join rows ``index`` and ``index + 1``; when their speakers differ, ask which one keeps the row. */
  function joinRows(index, anchorSeg) {
    const first = state.segs[index];
    const second = state.segs[index + 1];
    const joinAt = first.text.length;
    const join = (speaker) => {
      const merged = T.mergeSegments(first, second);
      merged.speaker = speaker;
      view.replaceSegments(index, 2, [merged]);
      view.placeCaret(merged, joinAt);
      ed.speakers.updateCounts();
      ed.save.markDirty();
      announce(`発言を結合しました(話者: ${view.speakerName(speaker)})。`);
    };
    if (first.speaker === second.speaker) {
      join(first.speaker);
      return;
    }
    const anchor = state.rows.get(anchorSeg.uid)?.querySelector(".utt-speaker") || els.transcript;
    const choice = (seg, where) =>
      h(
        "button",
        {
          type: "button",
          class: "menu-item",
          role: "menuitem",
          onclick: () => {
            ed.popover.close(false);
            join(seg.speaker);
          },
        },
        `${view.speakerName(seg.speaker)}(${where})`,
      );
    els.popover.setAttribute("role", "menu");
    ed.popover.open(
      anchor,
      [h("p", {}, "話者が違います。結合した発言をどちらの話者にしますか?"), choice(first, "前の発言"), choice(second, "後の発言")],
      "結合した発言の話者を選ぶ",
    );
    els.popover.querySelector(".menu-item")?.focus();
  }

  function mergeWithPrevious(seg) {
    const index = view.indexOf(seg);
    if (index <= 0 || !view.editable()) return;
    joinRows(index - 1, seg);
  }

  function mergeWithNext(seg) {
    const index = view.indexOf(seg);
    if (index < 0 || index >= state.segs.length - 1 || !view.editable()) return;
    joinRows(index, seg);
  }

  function undoCorrection(seg, correction) {
    if (!view.editable()) return;
    if (!T.undoCorrection(seg, correction)) return;
    view.rerenderText(seg);
    ed.save.markDirty();
    view.refreshSidePanels();
    ed.popover.close();
    announce(`「${correction.after}」を「${correction.before}」に戻しました。`);
  }

  function openCorrectionPopover(seg, c, anchor) {
    els.popover.setAttribute("role", "dialog");
    ed.popover.open(
      anchor,
      [
        h("p", {}, T.correctionReason(c)),
        h(
          "button",
          { type: "button", class: "menu-item", disabled: !view.editable(), onclick: () => undoCorrection(seg, c) },
          `元に戻す(「${c.before}」にする)`,
        ),
        h("button", { type: "button", class: "menu-item", onclick: () => ed.popover.close() }, "このままにする"),
        h(
          "button",
          {
            type: "button",
            class: "menu-item",
            onclick: () => {
              ed.popover.close(false);
              ed.terms.propose(seg, c.start, c.end, anchor);
            },
          },
          "辞書に追加…(部署の用語辞書に提案)",
        ),
      ],
      "辞書による修正",
    );
    els.popover.querySelector(".menu-item")?.focus();
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
    const seg = view.segOf(el);
    if (event.key === "Backspace" && caretOffset(el) === 0 && view.indexOf(seg) > 0) {
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
    if (!view.editable()) return;
    const text = (event.clipboardData?.getData("text/plain") || "").replace(/\r?\n/g, " ");
    document.execCommand("insertText", false, text);
  });

  els.transcript.addEventListener("focusin", (event) => {
    const seg = view.segOf(event.target);
    if (seg) state.currentUid = seg.uid;
  });

  els.transcript.addEventListener("focusout", (event) => {
    const el = event.target.closest?.(".utt-text");
    const seg = el && view.segOf(el);
    // Marks (low-confidence words, corrections) follow the text once the caret has left the row.
    if (seg && seg._rendered !== seg.text && !ed.find.isOpen()) view.rerenderText(seg);
  });

  els.transcript.addEventListener("click", (event) => {
    const time = event.target.closest(".utt-time");
    const speaker = event.target.closest(".utt-speaker");
    const corr = event.target.closest(".corr");
    const seg = view.segOf(event.target);
    if (!seg) return;
    state.currentUid = seg.uid;
    if (time) {
      ed.audio.seekTo(seg.start, true);
      return;
    }
    if (speaker) {
      ed.speakers.openMenu(seg, speaker, event.shiftKey); // Shift: every row from the last one chosen
      return;
    }
    if (corr && corr.dataset.ci !== undefined) {
      const c = seg.corr[Number(corr.dataset.ci)];
      if (c && seg.text.slice(c.start, c.end) === c.after) openCorrectionPopover(seg, c, corr);
    }
    const el = event.target.closest(".utt-text");
    if (el && ed.audio.audioUsable() && els.audio.paused) {
      const offset = caretOffset(el);
      ed.audio.seekTo(T.timeAt(seg, offset ?? 0), false);
    }
  });

  $("split").addEventListener("click", () => {
    const seg = view.currentSeg();
    const el = seg && view.textEl(seg);
    if (!el || caretOffset(el) === null) {
      announce("分割する位置(発言の文の中)にカーソルを置いてから押してください。");
      return;
    }
    splitAt(el);
  });

  $("merge").addEventListener("click", () => {
    const seg = view.currentSeg();
    if (!seg || view.indexOf(seg) <= 0) {
      announce("結合する発言(2つ目以降)を選んでから押してください。");
      return;
    }
    mergeWithPrevious(seg);
  });

  $("next-low").addEventListener("click", () => {
    if (!state.segs.length) return;
    const from = view.currentSeg();
    let index = from ? view.indexOf(from) : 0;
    const el = from && view.textEl(from);
    let after = el && el.contains(document.activeElement) ? (caretOffset(el, true) ?? 0) : 0;
    for (let n = 0; n <= state.segs.length; n++) {
      const seg = state.segs[index];
      const next = ed.confidence.spans(seg).find((s) => s.start >= after);
      if (next) {
        view.goToSegment(seg, next.start, next.end);
        if (ed.audio.audioUsable() && els.audio.paused) ed.audio.seekTo(Number(next.word.start) || seg.start, false);
        announce(`要確認の語「${seg.text.slice(next.start, next.end)}」`);
        return;
      }
      index = (index + 1) % state.segs.length;
      after = 0;
    }
    announce("要確認の語はありません。");
  });

  els.headerForm.addEventListener("input", (event) => {
    const key = event.target.dataset?.key;
    if (!key || !view.editable()) return;
    state.header[key] = event.target.value;
    if (key === "title") els.title.textContent = event.target.value || "(無題)";
    ed.save.markDirty();
  });

  // ケバ取り (display only): fillers hidden from view, never from the saved text. Editing goes on: the
  // row being edited shows its fillers (struck through), so the caret never lands in hidden text.
  els.fillers.addEventListener("click", () => {
    state.hideFillers = !state.hideFillers;
    els.fillers.setAttribute("aria-pressed", String(state.hideFillers));
    document.body.classList.toggle("hide-fillers", state.hideFillers);
    view.renderAll();
    view.setEditable();
    if (state.hideFillers) {
      view.showBanner(
        "info",
        "fillers",
        "ケバ取り表示中: 「えー」「あのー」や言い直しを隠して表示しています。保存される文章は変わりません。",
        "編集中の発言では、隠した語を取り消し線で表示します。Word の整文もこれと同じ語を除きます。",
      );
    } else {
      view.hideBanner("fillers");
    }
    announce(state.hideFillers ? "ケバ取り表示にしました。編集もできます。" : "元の表示に戻しました。");
  });

  return { undoCorrection };
}
