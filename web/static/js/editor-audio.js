// The recording's player in the editor: play and pause, 5-second skips, the speed (kept in this
// browser), seeking to an utterance, marking the utterance being played and following it down the
// page ("再生中の発言を追う") without pulling the view away from a row the clerk is editing. While it
// plays, the word being heard is highlighted (a CSS custom highlight: no change to the text's DOM,
// so typing and the caret are untouched) and, when following, kept in view.
import { HIGHLIGHTS, announce } from "./common.js";
import { rangeFor } from "./editor-view.js";
import * as T from "./transcript-model.js";

const SPEED_KEY = "kiroku:speed";

/** The player of one editor page; ``ed`` is the page's shared context. */
export function createAudio(ed) {
  const { els, state } = ed;
  const audio = els.audio;

  function audioUsable() {
    return Boolean(ed.data.audio) && !audio.error;
  }

  function seekTo(time, play) {
    if (!audioUsable()) return;
    audio.currentTime = Math.max(0, time);
    if (play && audio.paused) audio.play().catch(() => {});
    updatePlaying(true);
  }

  function togglePlay() {
    if (!audioUsable()) {
      announce("この記録の音声は再生できません。");
      return;
    }
    if (audio.paused) audio.play().catch(() => announce("再生を始められませんでした。"));
    else audio.pause();
  }

  function skip(seconds) {
    if (!audioUsable()) return;
    const duration = Number.isFinite(audio.duration) ? audio.duration : Number.POSITIVE_INFINITY;
    audio.currentTime = Math.min(duration, Math.max(0, audio.currentTime + seconds));
    updatePlaying(true);
  }

  /** Go ``step`` utterances up or down (Alt+↑/↓): the caret and, when there is audio, the player. */
  function moveUtterance(step) {
    const seg = ed.view.currentSeg();
    if (!seg) return;
    const index = Math.min(state.segs.length - 1, Math.max(0, ed.view.indexOf(seg) + step));
    const target = state.segs[index];
    state.currentUid = target.uid;
    if (audioUsable()) seekTo(target.start, false);
    ed.view.placeCaret(target, 0);
  }

  function updatePlaying(force) {
    if (!state.segs.length) return;
    const index = T.segmentAt(state.segs, audio.currentTime + 0.05);
    const seg = state.segs[Math.max(0, index)];
    if (!seg) return;
    if (seg.uid !== state.playingUid) {
      const previous = state.playingUid;
      state.rows.get(previous)?.classList.remove("playing");
      state.rows.get(seg.uid)?.classList.add("playing");
      state.playingUid = seg.uid;
      if (!audio.paused || force) follow(seg, previous);
    }
  }

  /** Whether following may move the view now: never away from a row the clerk is editing. */
  function mayFollow(seg, previousUid) {
    if (!els.follow.checked) return false;
    const editing = ed.view.segOf(document.activeElement);
    return !(editing && editing.uid !== seg.uid && editing.uid !== previousUid && els.transcript.contains(document.activeElement));
  }

  function follow(seg, previousUid) {
    const row = state.rows.get(seg.uid);
    if (!row || !mayFollow(seg, previousUid)) return;
    ed.view.scrollIntoViewIfNeeded(row, "center");
  }

  // --- the word being played --------------------------------------------------------------------

  let frame = 0;
  let wordKey = "";

  /** The word of the playing utterance under the play head, or null. */
  function wordAt(seg, time) {
    for (const s of T.wordSpans(seg)) {
      if (Number(s.word.start) <= time && time < Number(s.word.end)) return s;
    }
    return null;
  }

  function markWord() {
    frame = 0;
    const began = performance.now();
    updatePlaying(false);
    const seg = state.byUid.get(state.playingUid);
    const found = seg ? wordAt(seg, audio.currentTime) : null;
    const key = found ? `${seg.uid}:${found.start}:${found.end}` : "";
    if (key !== wordKey) {
      wordKey = key;
      els.transcript.dataset.playingWord = found ? seg.text.slice(found.start, found.end) : "";
      const el = found && ed.view.textEl(seg);
      if (!el) CSS.highlights.delete("playing-word");
      else {
        const range = rangeFor(el, found.start, found.end);
        CSS.highlights.set("playing-word", new Highlight(range));
        if (!audio.paused && mayFollow(seg, null)) keepInView(range);
      }
    }
    const spent = performance.now() - began;
    ed.metrics.highlightFrames = (ed.metrics.highlightFrames || 0) + 1;
    ed.metrics.highlightTotalMs = (ed.metrics.highlightTotalMs || 0) + spent;
    ed.metrics.highlightMaxMs = Math.max(ed.metrics.highlightMaxMs || 0, spent);
    if (!audio.paused) frame = requestAnimationFrame(markWord);
  }

  /** A long utterance: scroll so that the word being played stays on screen, not only its row. */
  function keepInView(range) {
    const box = els.transcript.getBoundingClientRect();
    const r = range.getBoundingClientRect();
    if (!r.height) return;
    if (r.bottom > box.bottom - 24 || r.top < box.top + 8) {
      els.transcript.scrollBy({ top: r.top - box.top - box.height / 3 });
    }
  }

  function startMarking() {
    if (HIGHLIGHTS && !frame) frame = requestAnimationFrame(markWord);
  }

  audio.addEventListener("timeupdate", () => updatePlaying(false));
  audio.addEventListener("seeked", () => {
    updatePlaying(true);
    startMarking();
  });
  audio.addEventListener("play", () => {
    startMarking();
    els.play.textContent = "❚❚ 一時停止";
    els.play.setAttribute("aria-label", "一時停止");
  });
  audio.addEventListener("pause", () => {
    els.play.textContent = "▶ 再生";
    els.play.setAttribute("aria-label", "再生");
  });
  audio.addEventListener("error", () => {
    if (!ed.data.audio) return;
    for (const b of [els.play, els.back5, els.fwd5]) b.disabled = true;
    ed.view.showBanner(
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
    audio.playbackRate = rate;
    audio.defaultPlaybackRate = rate;
    try {
      localStorage.setItem(SPEED_KEY, String(rate));
    } catch {
      // Private windows may refuse storage; the speed still applies now.
    }
  });
  audio.addEventListener("loadedmetadata", () => {
    audio.playbackRate = Number(els.speed.value) || 1;
  });

  /** The saved speed, and the recording's audio (or why there is none). */
  function setUp() {
    try {
      const saved = localStorage.getItem(SPEED_KEY);
      if (saved && [...els.speed.options].some((o) => o.value === saved)) els.speed.value = saved;
    } catch {
      // no storage: default speed
    }
    if (ed.data.audio) {
      audio.src = `${ed.base}/audio`;
      audio.playbackRate = Number(els.speed.value) || 1;
      for (const b of [els.play, els.back5, els.fwd5]) b.disabled = false;
    } else {
      audio.hidden = true;
      ed.view.showBanner(
        "info",
        "audio",
        "音声は保存期間を過ぎたため削除されています。文字の編集と書き出しはできます。",
      );
    }
  }

  return { audioUsable, seekTo, togglePlay, skip, moveUtterance, updatePlaying, setUp };
}
