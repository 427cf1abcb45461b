// 確認モード: walks the clerk through only the doubtful places of the machine transcript (low-confidence
// words, likely hallucinations, dictionary corrections), in time order, one key each, with the audio
// of each place. The places come from the machine transcript and are found in the (maybe edited)
// minutes by time and text alignment each time one is shown, so edits made during the walk are fine.
//
// "確認済み" is remembered in this browser only (localStorage, per recording): it is the clerk's own
// progress through the list, not part of the minutes, and losing it costs only a second look.
import { $, HIGHLIGHTS, announce, formatClock, h } from "./common.js";
import { LEAD_SECONDS, TAIL_SECONDS, locatePlace, placeLabel, placesFrom, prepareMachine } from "./review-model.js";

/**
 * The review walk of one editor page. ``ed`` is what it needs from the editor: segs(), rowOf(seg),
 * textEl(seg), rangeFor(el, start, end), placeCaret(seg, start, end), canEdit(), audio, audioUsable(),
 * seek(time), machine() (a promise of the machine transcript), proposeTerm(seg, start, end, place),
 * storageKey.
 */
export function createReview(ed) {
  const els = {
    bar: $("review-bar"),
    toggle: $("review-open"),
    progress: $("review-progress"),
    meter: $("review-meter"),
    checked: $("review-checked"),
    place: $("review-place"),
    kind: $("review-kind"),
    time: $("review-time"),
    reasons: $("review-reasons"),
    text: $("review-text"),
    done: $("review-done"),
    doneText: $("review-done-text"),
    actions: $("review-actions"),
    prev: $("review-prev"),
    next: $("review-next"),
    edit: $("review-edit"),
    replay: $("review-replay"),
    term: $("review-term"),
    close: $("review-close"),
    restart: $("review-restart"),
  };
  const walk = { active: false, places: [], index: 0, checked: new Set(), machine: null, located: null };
  let clipEnd = null;

  function loadChecked() {
    try {
      return new Set(JSON.parse(localStorage.getItem(ed.storageKey) || "[]"));
    } catch {
      return new Set();
    }
  }

  function saveChecked() {
    try {
      localStorage.setItem(ed.storageKey, JSON.stringify([...walk.checked]));
    } catch {
      // Private windows may refuse storage: the marks then last as long as the page.
    }
  }

  async function start() {
    if (els.toggle.disabled) return; // already loading the machine transcript
    els.toggle.disabled = true;
    try {
      const transcript = await ed.machine();
      walk.machine = prepareMachine(transcript);
      walk.places = placesFrom(transcript);
    } catch {
      announce("機械の文字起こしを読み込めなかったため、確認モードを始められませんでした。");
      return;
    } finally {
      els.toggle.disabled = false;
    }
    walk.active = true;
    walk.checked = loadChecked();
    const first = walk.places.findIndex((p) => !walk.checked.has(p.key));
    walk.index = first < 0 ? walk.places.length : first;
    els.bar.hidden = false;
    els.toggle.setAttribute("aria-pressed", "true");
    document.body.classList.add("reviewing");
    focusBar();
    show(true);
  }

  function stop() {
    if (!walk.active) return;
    walk.active = false;
    stopClip();
    unmark();
    els.bar.hidden = true;
    els.toggle.setAttribute("aria-pressed", "false");
    document.body.classList.remove("reviewing");
    const place = walk.located && ed.segs()[walk.located.index];
    if (place) ed.placeCaret(place, walk.located.start, walk.located.end);
    else els.toggle.focus();
    announce("確認モードを終えました。");
  }

  // The focus first, then the marks: leaving an edited utterance re-renders its text (and its ranges).
  function focusBar() {
    els.bar.focus({ preventScroll: true });
  }

  function unmark() {
    if (HIGHLIGHTS) CSS.highlights.delete("review-current");
    for (const row of document.querySelectorAll(".utt.review-row")) row.classList.remove("review-row");
  }

  /** The current place in the minutes as they are now: {index, start, end} or null. */
  function locate() {
    const place = walk.places[walk.index];
    if (!place) return null;
    return locatePlace(walk.machine, ed.segs(), place);
  }

  function show(play) {
    unmark();
    const total = walk.places.length;
    const finished = walk.index >= total;
    els.checked.textContent = `確認済み ${walk.places.filter((p) => walk.checked.has(p.key)).length} 件`;
    els.meter.max = Math.max(1, total);
    els.meter.value = Math.min(walk.index + (finished ? 0 : 1), total);
    els.place.hidden = finished;
    els.done.hidden = !finished;
    for (const b of [els.next, els.edit, els.replay, els.term]) b.disabled = finished;
    els.prev.disabled = walk.index === 0;
    walk.located = null;
    if (finished) {
      els.progress.textContent = total ? `${total} / ${total} 件` : "0 件";
      els.doneText.textContent = total
        ? `確認が必要な ${total} 件をすべて見終わりました。`
        : "この記録には、確認が必要な箇所はありません。";
      stopClip();
      announce(els.doneText.textContent);
      return;
    }
    const place = walk.places[walk.index];
    els.progress.textContent = `${walk.index + 1} / ${total} 件`;
    els.kind.textContent = placeLabel(place);
    els.kind.dataset.kind = place.kinds[0];
    els.time.textContent = formatClock(place.start);
    els.reasons.replaceChildren(...place.reasons.map((r) => h("li", {}, r)));
    els.text.textContent = place.text ? `認識結果: 「${place.text}」` : "";
    els.place.classList.toggle("is-checked", walk.checked.has(place.key));
    const located = locate();
    walk.located = located;
    if (located) {
      const seg = ed.segs()[located.index];
      const row = ed.rowOf(seg);
      row?.classList.add("review-row");
      row?.scrollIntoView({ block: "center" });
      const el = ed.textEl(seg);
      if (HIGHLIGHTS && el && located.end > located.start) {
        CSS.highlights.set("review-current", new Highlight(ed.rangeFor(el, located.start, located.end)));
      }
    }
    if (play) playClip(place);
    announce(`${walk.index + 1} / ${total} 件、${placeLabel(place)}「${place.text}」。${place.reasons.join(" ")}`);
  }

  function playClip(place) {
    if (!ed.audioUsable()) return;
    clipEnd = place.end + TAIL_SECONDS;
    ed.seek(Math.max(0, place.start - LEAD_SECONDS));
    ed.audio.play().catch(() => {
      clipEnd = null; // the browser refused to play: the position is still there for ▶
    });
  }

  function stopClip() {
    if (clipEnd !== null && !ed.audio.paused) ed.audio.pause();
    clipEnd = null;
  }

  ed.audio.addEventListener("timeupdate", () => {
    if (clipEnd !== null && ed.audio.currentTime >= clipEnd) {
      clipEnd = null;
      ed.audio.pause();
    }
  });
  ed.audio.addEventListener("pause", () => {
    clipEnd = null;
  });

  function next() {
    if (!walk.active || walk.index >= walk.places.length) return;
    walk.checked.add(walk.places[walk.index].key);
    saveChecked();
    walk.index++;
    focusBar();
    show(true);
  }

  function previous() {
    if (!walk.active || walk.index === 0) return;
    walk.index--;
    focusBar();
    show(true);
  }

  function replay() {
    const place = walk.places[walk.index];
    if (place) playClip(place);
  }

  function edit() {
    if (!walk.active || !walk.places[walk.index]) return;
    if (!ed.canEdit()) {
      announce("いまは文を編集できません(ケバ取り表示中か、他の人の保存と重なっています)。");
      return;
    }
    const located = locate();
    if (!located) return;
    stopClip();
    const seg = ed.segs()[located.index];
    ed.placeCaret(seg, located.start, located.end);
    announce("文を直してください。直し終わったら Alt+K で確認に戻ります。");
  }

  function term() {
    const place = walk.places[walk.index];
    const located = place && locate();
    if (!located) return;
    stopClip();
    ed.proposeTerm(ed.segs()[located.index], located.start, located.end, place);
  }

  function restart() {
    walk.checked.clear();
    saveChecked();
    walk.index = 0;
    focusBar();
    show(true);
  }

  els.toggle.addEventListener("click", () => (walk.active ? stop() : start()));
  els.next.addEventListener("click", next);
  els.prev.addEventListener("click", previous);
  els.edit.addEventListener("click", edit);
  els.replay.addEventListener("click", () => {
    focusBar();
    replay();
  });
  els.term.addEventListener("click", term);
  els.close.addEventListener("click", stop);
  els.restart.addEventListener("click", restart);

  // One key each while the review bar has the focus (buttons keep their own Enter and Space).
  els.bar.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    const onButton = event.target !== els.bar && event.target.closest("button");
    const actions = {
      Enter: onButton ? null : next,
      ArrowDown: next,
      ArrowUp: previous,
      KeyE: edit,
      KeyR: () => {
        replay();
      },
      KeyD: term,
    };
    const action = actions[event.key] || actions[event.code];
    if (!action || event.shiftKey) return;
    event.preventDefault();
    action();
  });

  return {
    get active() {
      return walk.active;
    },
    /** Alt+K: start, or come back to the walk from the text; from the walk itself, end it. */
    shortcut() {
      if (!walk.active) start();
      else if (els.bar.contains(document.activeElement)) stop();
      else {
        focusBar();
        show(false);
      }
    },
    /** Esc while the walk has the focus ends it; true when it did. */
    escape() {
      if (!walk.active || !els.bar.contains(document.activeElement)) return false;
      stop();
      return true;
    },
    places: () => walk.places,
  };
}
