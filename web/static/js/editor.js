// 編集: the minutes editor. The transcript is one list of utterances, each a small contenteditable
// (plain text), rendered once as HTML; rows off screen cost little (content-visibility: auto), so a
// 2-hour meeting opens at once and typing touches only the row being edited. Changes are saved a
// moment after typing stops (PUT with If-Match); a save refused because someone else saved first
// stops saving and says so, never overwriting their version.
//
// This module only wires the page together. Its parts share one context, ``ed``: the page's data and
// elements, the page's one mutable ``state``, and each part's functions (``ed.view``, ``ed.save``, …),
// through which the parts call one another. Each part is made by a constructor given ``ed``:
//   editor-view.js       rows, character positions, side panels, banner, what may be edited now
//   editor-save.js       autosave, If-Match revisions, conflicts, export
//   editor-load.js       loading the minutes (or the transcript's progress), ?t=&q= jumps
//   editor-edit.js       typing, split and merge, row clicks, header fields, ケバ取り
//   editor-speakers.js   the speaker panel, rename, add, the speaker menu
//   editor-popover.js    the popover the speaker menu and a correction's choices open in
//   editor-audio.js      the player, follow mode, seeking
//   editor-find.js       find and replace
//   editor-revisions.js  版の履歴
//   editor-terms.js      辞書に追加 and the machine transcript
//   editor-drawer.js     the side panel as a drawer on a narrow window
//   editor-confidence.js 要確認の基準 (the slider) and how doubtful each marked word is
//   editor-local.js      unsaved edits mirrored in IndexedDB, offered back after a crash
//   editor-presence.js   who else has the recording open (heartbeat)
//   editor-overview.js   the strip of the whole recording: speakers, words to check, matches
// The transcript operations themselves are in transcript-model.js; 確認モード is review.js.
import { $, announce, initLayout, pageData } from "./common.js";
import { createAudio } from "./editor-audio.js";
import { createConfidence } from "./editor-confidence.js";
import { createDrawer } from "./editor-drawer.js";
import { createEdit } from "./editor-edit.js";
import { createFind } from "./editor-find.js";
import { createLocal } from "./editor-local.js";
import { createOverview } from "./editor-overview.js";
import { createLoader } from "./editor-load.js";
import { createPopover } from "./editor-popover.js";
import { createPresence } from "./editor-presence.js";
import { createRevisions } from "./editor-revisions.js";
import { createSave } from "./editor-save.js";
import { createSpeakers } from "./editor-speakers.js";
import { createTerms } from "./editor-terms.js";
import { createView, rangeFor } from "./editor-view.js";
import { createReview } from "./review.js";
import { useFillerPatterns } from "./transcript-model.js";

initLayout();

const DATA = pageData();
useFillerPatterns(DATA.filler_patterns);
const RID = DATA.id;

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
  unnamed: new Map(), // speaker id -> 発言者A …: the record's label for one nobody named (from the server)
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

/** The editor's shared context: what every part is given. */
const ed = { data: DATA, rid: RID, base: `/api/v1/recordings/${RID}`, els, state, metrics };
ed.view = createView(ed);
ed.confidence = createConfidence(ed);
ed.save = createSave(ed);
ed.loader = createLoader(ed);
ed.popover = createPopover(els.popover);
ed.speakers = createSpeakers(ed);
ed.edit = createEdit(ed);
ed.audio = createAudio(ed);
ed.find = createFind(ed);
ed.revisions = createRevisions(ed);
ed.terms = createTerms(ed);
ed.drawer = createDrawer();
ed.local = createLocal(ed);
ed.presence = createPresence(ed);
ed.overview = createOverview(ed);

const { view, audio } = ed;
const review = createReview({
  segs: () => state.segs,
  rowOf: (seg) => state.rows.get(seg.uid),
  textEl: view.textEl,
  rangeFor,
  placeCaret: view.placeCaret,
  canEdit: view.editable,
  audio: els.audio,
  audioUsable: audio.audioUsable,
  seek: (time) => audio.seekTo(time, false),
  machine: ed.terms.machineTranscript,
  proposeTerm: (seg, start, end) => ed.terms.propose(seg, start, end, $("review-bar")),
  storageKey: `kiroku:review:${RID}`,
});

// --- keyboard shortcuts (they work while typing in an utterance) ---------------------------------

document.addEventListener(
  "keydown",
  (event) => {
    if (event.isComposing || event.keyCode === 229) return; // the IME's own keys (変換中の Esc/Enter)
    if (ed.revisions.isOpen() || ed.terms.isOpen()) return; // a dialog's own keys (Esc closes it)
    const ctrl = event.ctrlKey || event.metaKey;
    if (event.altKey && !ctrl && !event.shiftKey && event.code === "KeyK" && state.loaded) {
      event.preventDefault();
      review.shortcut();
      return;
    }
    if (event.key === "Escape" && !ctrl && !event.altKey) {
      event.preventDefault();
      if (ed.popover.isOpen()) ed.popover.close();
      else if (ed.drawer.isOpen()) ed.drawer.close();
      else if (review.escape()) return;
      else if (ed.find.isOpen() && els.findBar.contains(document.activeElement)) ed.find.close();
      else audio.togglePlay();
      return;
    }
    if (ctrl && !event.altKey && (event.code === "Space" || event.key === " ")) {
      event.preventDefault();
      audio.togglePlay();
      return;
    }
    if (event.altKey && !ctrl && !event.shiftKey) {
      const actions = {
        ArrowLeft: () => audio.skip(-5),
        ArrowRight: () => audio.skip(5),
        ArrowUp: () => audio.moveUtterance(-1),
        ArrowDown: () => audio.moveUtterance(1),
      };
      if (actions[event.key]) {
        event.preventDefault();
        actions[event.key]();
      }
      return;
    }
    if (ctrl && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      if (state.dirty) ed.save.saveNow();
      else announce("保存済みです。");
      return;
    }
    if (ctrl && !event.altKey && event.key.toLowerCase() === "f" && state.loaded) {
      event.preventDefault();
      ed.find.open();
    }
  },
  true,
);

audio.setUp();
ed.loader.load();
ed.presence.start();
