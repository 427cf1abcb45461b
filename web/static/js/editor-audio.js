// The recording's player in the editor: play and pause, 5-second skips, the speed (kept in this
// browser), seeking to an utterance, marking the utterance being played and following it down the
// page ("再生中の発言を追う") without pulling the view away from a row the clerk is editing.
import { announce } from "./common.js";
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

  function follow(seg, previousUid) {
    if (!els.follow.checked) return;
    const row = state.rows.get(seg.uid);
    if (!row) return;
    // Never pull the view away from a row the clerk is editing (other than the one just played).
    const editing = ed.view.segOf(document.activeElement);
    if (editing && editing.uid !== seg.uid && editing.uid !== previousUid && els.transcript.contains(document.activeElement)) {
      return;
    }
    ed.view.scrollIntoViewIfNeeded(row, "center");
  }

  audio.addEventListener("timeupdate", () => updatePlaying(false));
  audio.addEventListener("seeked", () => updatePlaying(true));
  audio.addEventListener("play", () => {
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
