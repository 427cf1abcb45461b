// Loading the editor: the recording and its minutes (or, while the transcript is still being made,
// its progress until it is ready), putting a version of the minutes on the page, and the first load's
// ?t=<seconds>&q=<text> (links from the search page): open at that moment, the searched words marked.
import { $, HIGHLIGHTS, announce, api, errorText, formatClock, formatDateTime, h, progressPhrase, revisionName } from "./common.js";
import { rangeFor } from "./editor-view.js";
import * as T from "./transcript-model.js";

/** Loading for one editor page; ``ed`` is the page's shared context. */
export function createLoader(ed) {
  const { els, state, metrics } = ed;
  let jumped = false; // ?t= applies to the first load only, not to reloading the latest version

  /** Put a version of the minutes ({header, transcript, revision}) on the page. */
  function applyMinutes(minutes) {
    const transcript = minutes.transcript || {};
    const { segments, speakers } = T.fromTranscript(transcript);
    const { segments: _s, speakers: _p, corrections: _c, ...rest } = transcript;
    state.rest = rest;
    state.header = { ...(minutes.header || {}) };
    state.segs = segments;
    state.speakers = speakers;
    // A draft kept in this browser has none: the last ones the server gave stand until it is saved.
    if (minutes.speaker_labels) state.unnamed = new Map(Object.entries(minutes.speaker_labels));
    state.revision = minutes.revision ?? 0;
    state.dirty = false;
    state.conflict = false;
    state.blocked = "";
    state.loaded = true;
    state.playingUid = null;
    els.revisionLabel.textContent = revisionName(state.revision);
    ed.view.renderAll();
    ed.view.fillHeader();
    ed.speakers.render();
    ed.view.renderCorrections();
    ed.view.updateLowCount();
    ed.view.setEditable();
    ed.audio.updatePlaying(false);
    ed.overview?.draw();
    showStageFailures(transcript.failed_stages);
  }

  /** A later stage that failed on this recording (speakers, dictionary): the transcript was kept
   * without it. The reason, in the transcript, is shown above it until the stage succeeds. */
  function showStageFailures(failures) {
    let box = document.getElementById("stage-failures");
    if (!Array.isArray(failures) || !failures.length) {
      box?.remove();
      return;
    }
    if (!box) {
      box = h("div", { id: "stage-failures", class: "alert alert-warning", role: "status" });
      els.transcript.before(box);
    }
    box.replaceChildren(...failures.map((failure) => h("p", {}, String(failure.reason || ""))));
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
                ` ${recording.status === "running" ? progressPhrase(recording.stage, recording.progress) : `${percent}%`}`,
              ),
            ],
        h("p", {}, h("a", { href: "/" }, "記録一覧へ戻る")),
      ),
    );
    ed.save.setSaveState("idle", failed ? "編集できません" : "文字起こし待ち");
    if (!failed) setTimeout(pollUntilReady, 2000);
  }

  /** While the transcript is being made: the (cheap, unaudited) status only, then the minutes once. */
  async function pollUntilReady() {
    try {
      const recording = await api(ed.base);
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

  async function load() {
    const started = performance.now();
    ed.save.setSaveState("idle", "読み込み中…");
    let recording;
    let minutes;
    try {
      [recording, minutes] = await Promise.all([
        api(ed.base),
        api(`${ed.base}/minutes`).catch((error) => {
          if (error.status === 409) return null;
          throw error;
        }),
      ]);
    } catch (error) {
      els.transcript.replaceChildren(h("p", { class: "alert alert-error", role: "alert" }, errorText(error)));
      ed.save.setSaveState("error", "読み込めませんでした");
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
    // The version itself is named beside the title (文字起こし(未編集) / 第3版); the pill says the state.
    ed.save.setSaveState("saved", state.revision ? "保存済み" : "まだ編集していません");
    for (const b of document.querySelectorAll("[data-format]")) b.disabled = false;
    $("revisions-open").disabled = false;
    if (!jumped) {
      jumped = true;
      jumpFromUrl();
      ed.local?.offer(); // edits this browser kept from an earlier visit the server never confirmed
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

  function jumpFromUrl() {
    const params = new URLSearchParams(location.search);
    const time = Number(params.get("t"));
    if (!params.has("t") || !Number.isFinite(time) || time < 0 || !state.segs.length) return;
    const hit = T.findNear(state.segs, Math.max(0, T.segmentAt(state.segs, time + 0.05)), (params.get("q") || "").slice(0, 200));
    const seg = state.segs[hit ? hit.index : Math.max(0, T.segmentAt(state.segs, time + 0.05))];
    const row = state.rows.get(seg.uid);
    state.currentUid = seg.uid;
    row.scrollIntoView({ block: "center" });
    ed.view.placeCaret(seg, hit ? hit.start : 0);
    row.classList.add("jump-row");
    const el = ed.view.textEl(seg);
    if (hit && el && HIGHLIGHTS) {
      CSS.highlights.set("jump-hit", new Highlight(rangeFor(el, hit.start, hit.end)));
      // The mark is for finding the place: once the clerk edits, it would no longer sit on those words.
      els.transcript.addEventListener("input", () => CSS.highlights.delete("jump-hit"), { once: true });
    }
    if (ed.audio.audioUsable()) {
      els.audio.currentTime = time; // no autoplay: the clerk presses ▶ when ready
      ed.audio.updatePlaying(false);
    }
    announce(`${formatClock(time)} の発言を開きました。${hit ? "検索した語に印を付けています。" : ""}`);
  }

  return { load, applyMinutes };
}
