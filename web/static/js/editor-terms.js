// 辞書に追加 in the editor: the machine transcript (fetched once, for this and for 確認モード), what the
// clerk last selected in an utterance, and the dialog that proposes her correction as a term, pre-filled
// with what the machine wrote there.
import { $, announce, api, h } from "./common.js";
import { caretOffset } from "./editor-view.js";
import { correctionAt, prepareMachine } from "./review-model.js";
import { createTermDialog } from "./term-dialog.js";

/** Term proposals of one editor page; ``ed`` is the page's shared context. */
export function createTerms(ed) {
  const { state } = ed;
  let machinePromise = null;
  // The last selection (or caret) in an utterance: pressing a toolbar button may move it away.
  let picked = null;

  const dialog = createTermDialog({
    recordingId: ed.rid,
    onDone: (message) =>
      ed.view.showBanner("success", "term", message, " ", h("a", { href: "/dictionaries#proposals" }, "辞書のページで見る")),
  });

  /** The machine transcript (GET …/transcript), fetched once when review or 辞書に追加 first needs it. */
  function machineTranscript() {
    if (!machinePromise) {
      machinePromise = api(`${ed.base}/transcript`).catch((error) => {
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
    dialog.open({ term, before, segment: ed.view.indexOf(seg), start, end }, from);
  }

  document.addEventListener("selectionchange", () => {
    const selection = getSelection();
    if (!selection || !selection.rangeCount) return;
    const node = selection.anchorNode;
    const el = (node?.nodeType === Node.ELEMENT_NODE ? node : node?.parentElement)?.closest(".utt-text");
    const seg = el && ed.view.segOf(el);
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
        dialog.open({ ...draft, segment: ed.view.indexOf(seg), start: picked.start - draft.term.length, end: picked.start }, button);
        return;
      }
    }
    announce("辞書に追加する語(直した語)を、文の中で選んでから押してください。");
    ed.view.showBanner("info", "term", "辞書に追加する語(直した語)を、文の中でドラッグして選んでから「辞書に追加」を押してください。");
  });

  return { machineTranscript, propose: proposeTerm, isOpen: () => dialog.isOpen };
}
