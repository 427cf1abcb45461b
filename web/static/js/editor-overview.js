// The overview strip above the transcript: the whole recording at a glance, drawn on one canvas —
// who speaks when (a lane per speaker, in the speakers' colours), the words to check (orange ticks,
// taller where more doubtful), dictionary corrections (green) and find matches (yellow), with the
// play head. A click (or ←/→ on the focused strip, a slider) moves the play head and shows that place.
// Drawn from the transcript in memory, over the audio's peaks that the worker computed once
// (GET …/peaks): no audio is decoded in the browser.
import { announce, api, formatClock } from "./common.js";
import * as T from "./transcript-model.js";

const LANES_MAX = 6;
const COLOURS = ["#2f6fd6", "#c8601b", "#2e8b47", "#8746c7", "#a57e00", "#1a8a91", "#c2376d", "#59636e"];
const HEIGHT = 46;
const MARKS = 12; // the markers' band at the bottom

/** The overview of one editor page; ``ed`` is the page's shared context. */
export function createOverview(ed) {
  const { els, state } = ed;
  const wrap = document.createElement("div");
  wrap.className = "overview";
  const canvas = document.createElement("canvas");
  canvas.height = HEIGHT;
  canvas.setAttribute("aria-hidden", "true");
  const head = document.createElement("div");
  head.className = "overview-head";
  wrap.setAttribute("role", "slider");
  wrap.setAttribute("tabindex", "0");
  wrap.setAttribute("aria-label", "録音全体の見取り図(話者・要確認の語・辞書の修正・検索の一致)。押した位置から再生できます");
  wrap.setAttribute("aria-valuemin", "0");
  wrap.append(canvas, head);
  els.transcript.before(wrap);
  let timer = 0;
  let duration = 0;
  let peaks = null; // the loudest sample of equal stretches of the audio, 0 … 1
  let asked = false;
  ed.metrics.overviewMs = 0;

  function total() {
    const audio = els.audio;
    const fromAudio = Number.isFinite(audio.duration) ? audio.duration : 0;
    const last = state.segs.length ? state.segs[state.segs.length - 1].end : 0;
    return Math.max(fromAudio, Number(state.rest?.duration) || 0, last, 1);
  }

  function draw() {
    clearTimeout(timer);
    if (!state.loaded) return;
    const began = performance.now();
    duration = total();
    const width = Math.max(1, Math.round(wrap.clientWidth));
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${HEIGHT}px`;
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, HEIGHT);
    const x = (t) => (t / duration) * width;
    if (peaks?.length) {
      // The waveform behind the lanes, over the decoded length the peaks span.
      const span = Number(state.rest?.duration) || duration;
      const mid = (HEIGHT - MARKS) / 2;
      g.fillStyle = "#aeb8c4";
      for (let px = 0; px < width; px++) {
        const t = (px / width) * duration;
        if (t > span) break;
        const a = peaks[Math.min(peaks.length - 1, Math.floor((t / span) * peaks.length))];
        const h = Math.max(1, a * (HEIGHT - MARKS - 2));
        g.fillRect(px, mid - h / 2, 1, h);
      }
      g.globalAlpha = 0.7;
    }
    const ids = state.speakers.map((s) => s.id);
    const lanes = Math.max(1, Math.min(LANES_MAX, ids.length));
    const laneH = (HEIGHT - MARKS - 2) / lanes;
    for (const seg of state.segs) {
      const i = Math.max(0, ids.indexOf(seg.speaker));
      g.fillStyle = COLOURS[i % COLOURS.length];
      g.fillRect(x(seg.start), 1 + (i % lanes) * laneH, Math.max(1, x(seg.end) - x(seg.start)), laneH - 1);
    }
    g.globalAlpha = 1;
    const base = HEIGHT - 1;
    for (const seg of state.segs) {
      for (const s of ed.confidence.spans(seg)) {
        g.fillStyle = "#d9480f";
        g.fillRect(x(Number(s.word.start) || seg.start), base - 3 - s.degree * 3, 1, 3 + s.degree * 3);
      }
      if (seg.corr.length) {
        g.fillStyle = "#2e7d46";
        g.fillRect(x(seg.start), base - 4, 2, 4);
      }
    }
    for (const m of ed.find.matches?.() || []) {
      g.fillStyle = "#e0a800";
      g.fillRect(x(m.seg.start), 0, 2, HEIGHT);
    }
    wrap.setAttribute("aria-valuemax", String(Math.round(duration)));
    moveHead();
    ed.metrics.overviewMs = performance.now() - began;
    if (!asked) loadPeaks();
  }

  async function loadPeaks() {
    asked = true;
    if (!ed.data.audio) return;
    try {
      const found = await api(`${ed.base}/peaks`, { redirectOn401: false });
      if (found?.peaks?.length) {
        peaks = found.peaks;
        wrap.dataset.waveform = "true";
        draw();
      }
    } catch {
      // no waveform: the strip still shows speakers and marks
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(draw, 400);
  }

  function moveHead() {
    const t = els.audio.currentTime || 0;
    head.style.left = `${Math.min(100, (t / (duration || 1)) * 100)}%`;
    wrap.setAttribute("aria-valuenow", String(Math.round(t)));
    wrap.setAttribute("aria-valuetext", formatClock(t));
  }

  function go(time) {
    const t = Math.max(0, Math.min(duration, time));
    if (ed.audio.audioUsable()) ed.audio.seekTo(t, false);
    const index = Math.max(0, T.segmentAt(state.segs, t + 0.05));
    const seg = state.segs[index];
    if (seg) {
      state.currentUid = seg.uid;
      state.rows.get(seg.uid)?.scrollIntoView({ block: "center" });
    }
    announce(`${formatClock(t)} の位置を表示しました。`);
  }

  wrap.addEventListener("click", (event) => {
    const box = wrap.getBoundingClientRect();
    go(((event.clientX - box.left) / box.width) * duration);
  });
  wrap.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -30, ArrowRight: 30, PageUp: -300, PageDown: 300 }[event.key];
    if (step === undefined && event.key !== "Home" && event.key !== "End") return;
    event.preventDefault();
    const now = els.audio.currentTime || 0;
    go(event.key === "Home" ? 0 : event.key === "End" ? duration : now + step);
  });
  els.audio.addEventListener("timeupdate", moveHead);
  els.audio.addEventListener("loadedmetadata", schedule);
  new ResizeObserver(schedule).observe(wrap);

  return { draw, schedule };
}
