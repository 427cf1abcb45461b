// Speakers in the editor: the side panel (a name per speaker id, and how many utterances each has),
// renaming (every row follows at once), adding a speaker, merging one speaker into another, the menu
// on an utterance's speaker button that gives the utterance (or, with Shift, every row from the last
// one chosen to this one) to another or a new speaker, and 話者を判定し直す: the relabel job with a
// given count, allowed only while no minutes are saved (the relabel replaces the machine transcript).
import { $, announce, api, errorText, h, progressPhrase } from "./common.js";
import { SPEAKER_COLOURS } from "./editor-view.js";
import * as T from "./transcript-model.js";

/** The speakers of one editor page; ``ed`` is the page's shared context. */
export function createSpeakers(ed) {
  const { els, state } = ed;

  function renderSpeakers() {
    const counts = new Map();
    for (const seg of state.segs) counts.set(seg.speaker, (counts.get(seg.speaker) || 0) + 1);
    const focusedId = document.activeElement?.dataset?.speakerId;
    els.speakers.replaceChildren(
      ...state.speakers.map((s, i) => {
        const input = h("input", {
          type: "text",
          id: `spk-name-${i}`,
          value: s.name,
          placeholder: "例: 田中課長",
          maxlength: 100,
          "data-speaker-id": s.id,
          "aria-describedby": `spk-count-${i}`,
          disabled: !ed.view.editable(),
        });
        input.addEventListener("input", () => renameSpeaker(s, input.value));
        return h(
          "div",
          { class: "speaker-row" },
          h(
            "label",
            { for: `spk-name-${i}`, class: `spk-id spk-${i % SPEAKER_COLOURS}`, title: `${shown(s)} の名前` },
            shown(s),
          ),
          input,
          h("span", { class: "spk-count", id: `spk-count-${i}` }, `${counts.get(s.id) || 0} 件の発言`),
          voiceTools(s, i),
        );
      }),
    );
    els.speakerCount.textContent = `(${state.speakers.length})`;
    renderTools();
    if (focusedId) els.speakers.querySelector(`[data-speaker-id="${CSS.escape(focusedId)}"]`)?.focus();
  }

  /** What the panel calls a speaker: the name, else the record's 発言者A … (see view.speakerName). */
  function shown(s) {
    return ed.view.speakerName(s.id);
  }

  /** The panel's and the tools' labels after the record's labels changed, the inputs left alone
   * (the clerk may be typing a name in one). */
  function refreshNames() {
    state.speakers.forEach((s, i) => {
      const label = els.speakers.querySelector(`label[for="spk-name-${i}"]`);
      if (!label || label.textContent === shown(s)) return;
      label.textContent = shown(s);
      label.title = `${shown(s)} の名前`;
    });
    for (const select of [mergeFrom, mergeInto]) {
      for (const option of select.options) {
        const s = state.speakers.find((one) => one.id === option.value);
        if (s) option.textContent = label(s);
      }
    }
  }

  function updateCounts() {
    const counts = new Map();
    for (const seg of state.segs) counts.set(seg.speaker, (counts.get(seg.speaker) || 0) + 1);
    state.speakers.forEach((s, i) => {
      const el = $(`spk-count-${i}`);
      if (el) el.textContent = `${counts.get(s.id) || 0} 件の発言`;
    });
  }

  // Known voices (docs/voices.md): a name pre-filled by voice is marked 声で推定 until confirmed; a
  // named speaker of a recording with audio can be enrolled, with the person's consent recorded.
  function voiceTools(s, i) {
    if (s.estimated) {
      const confirmButton = h("button", { type: "button", class: "btn-small", disabled: !ed.view.editable() }, "確認");
      confirmButton.addEventListener("click", () => {
        s.estimated = false;
        ed.save.markDirty();
        renderSpeakers();
        announce(`${s.name} を確認しました。`);
      });
      return h("span", { class: "spk-voice", id: `spk-voice-${i}` }, h("span", { class: "badge" }, "声で推定"), confirmButton);
    }
    if (!s.name.trim() || !ed.data.audio || !ed.view.editable()) return "";
    const enrol = h("button", { type: "button", class: "btn-small", title: `${s.name} の声を部署に登録` }, "この声を登録");
    enrol.addEventListener("click", () => enrolVoice(s));
    return h("span", { class: "spk-voice", id: `spk-voice-${i}` }, enrol);
  }

  async function enrolVoice(s) {
    const consent = prompt(
      `${s.name} の声を登録します。本人の同意の記録(いつ・どのように同意を得たか)を入力してください。市民の声は登録できません。`,
    );
    if (!consent || !consent.trim()) return;
    try {
      const result = await api(`${ed.base}/voices`, {
        method: "POST",
        json: { speaker: s.id, name: s.name.trim(), consent: consent.trim() },
        redirectOn401: false,
      });
      announce(`${s.name} の声を登録しました(${result.added} 件)。`);
    } catch (error) {
      announce(`登録できませんでした: ${errorText(error)}`);
    }
  }

  function renameSpeaker(speaker, name) {
    if (speaker.estimated) {
      speaker.estimated = false; // the clerk's own name: no longer an estimate
      const row = els.speakers.querySelector(`[data-speaker-id="${CSS.escape(speaker.id)}"]`)?.closest(".speaker-row");
      row?.querySelector(".spk-voice")?.remove();
    }
    speaker.name = name.trim().slice(0, 100);
    const label = ed.view.speakerName(speaker.id);
    const chip = els.speakers.querySelector(`label[for="spk-name-${state.speakers.indexOf(speaker)}"]`);
    if (chip) {
      chip.textContent = label;
      chip.title = `${label} の名前`;
    }
    for (const button of els.transcript.querySelectorAll(`.utt-speaker[data-spk="${CSS.escape(speaker.id)}"]`)) {
      button.textContent = label;
    }
    ed.save.markDirty();
  }

  function addSpeaker() {
    const id = T.newSpeakerId(state.speakers);
    state.speakers.push({ id, name: "" });
    renderSpeakers();
    $(`spk-name-${state.speakers.length - 1}`)?.focus();
    announce("新しい話者を追加しました。名前を入力してください。");
    return id;
  }

  function setSpeaker(seg, id) {
    setSpeakers([seg], id);
  }

  /** Give every one of ``segs`` to speaker ``id``. */
  function setSpeakers(segs, id) {
    const changing = segs.filter((seg) => seg.speaker !== id);
    clearSelection();
    if (!ed.view.editable() || !changing.length) return;
    for (const seg of changing) {
      seg.speaker = id;
      ed.view.updateRowSpeaker(seg);
    }
    updateCounts();
    ed.save.markDirty();
    const many = segs.length > 1 ? `${segs.length} 件の発言の` : "";
    announce(`${many}話者を ${ed.view.speakerName(id)} に変えました。`);
  }

  // --- several rows at once: Shift+click on a speaker button selects from the last one chosen -------

  let anchorUid = null;
  let selected = [];

  function clearSelection() {
    for (const seg of selected) state.rows.get(seg.uid)?.classList.remove("spk-selected");
    selected = [];
  }

  function rowsFor(seg, extend) {
    const anchor = extend && anchorUid !== null ? state.byUid.get(anchorUid) : null;
    if (!anchor) {
      anchorUid = seg.uid;
      return [seg];
    }
    const a = ed.view.indexOf(anchor);
    const b = ed.view.indexOf(seg);
    return state.segs.slice(Math.min(a, b), Math.max(a, b) + 1);
  }

  /** Speaker ``from`` disappears: every utterance of theirs goes to ``into``. */
  function mergeSpeaker(from, into) {
    if (!ed.view.editable() || from === into) return;
    let moved = 0;
    for (const seg of state.segs) {
      if (seg.speaker !== from) continue;
      seg.speaker = into;
      moved++;
    }
    const name = ed.view.speakerName(from);
    state.speakers = state.speakers.filter((s) => s.id !== from);
    ed.view.renderAll(); // colours follow the speakers' order, which changed
    renderSpeakers();
    ed.save.markDirty();
    announce(`${name} の ${moved} 件の発言を ${ed.view.speakerName(into)} にまとめました。`);
  }

  function openMenu(seg, button, extend = false) {
    if (!ed.view.editable()) {
      announce("いまは話者を変えられません。");
      return;
    }
    const segs = rowsFor(seg, extend);
    clearSelection();
    selected = segs.length > 1 ? segs : [];
    for (const s of selected) state.rows.get(s.uid)?.classList.add("spk-selected");
    const items = state.speakers.map((s, i) =>
      h(
        "button",
        {
          type: "button",
          class: "menu-item",
          role: "menuitemradio",
          "aria-checked": String(segs.every((one) => one.speaker === s.id)),
          onclick: () => {
            ed.popover.close();
            setSpeakers(segs, s.id);
          },
        },
        h("span", { class: `spk-id spk-${i % SPEAKER_COLOURS}` }, " "),
        label(s),
      ),
    );
    items.push(h("div", { class: "menu-sep", role: "separator" }));
    items.push(
      h(
        "button",
        {
          type: "button",
          class: "menu-item",
          role: "menuitem",
          onclick: () => {
            ed.popover.close(false);
            const id = addSpeaker();
            setSpeakers(segs, id);
          },
        },
        "＋ 新しい話者にする",
      ),
    );
    if (segs.length > 1) items.unshift(h("p", {}, `選んだ ${segs.length} 件の発言の話者を変えます。`));
    els.popover.setAttribute("role", "menu");
    ed.popover.open(button, items, segs.length > 1 ? `${segs.length} 件の発言の話者を選ぶ` : "話者を選ぶ");
    (els.popover.querySelector('[aria-checked="true"]') || els.popover.querySelector(".menu-item"))?.focus();
  }

  els.addSpeaker.addEventListener("click", () => {
    if (ed.view.editable()) addSpeaker();
  });

  // --- the panel's tools: まとめる and 判定し直す ------------------------------------------------------

  const mergeFrom = h("select", { id: "merge-from" });
  const mergeInto = h("select", { id: "merge-into" });
  const mergeButton = h("button", { id: "merge-speakers", class: "btn btn-small", type: "button" }, "まとめる");
  const redetectCount = h(
    "select",
    { id: "redetect-count" },
    Array.from({ length: 9 }, (_, i) => h("option", { value: i + 2 }, `${i + 2} 人`)),
  );
  const redetectButton = h("button", { id: "redetect", class: "btn btn-small", type: "button" }, "話者を判定し直す");
  const redetectNote = h("p", { id: "redetect-note", class: "hint" });
  const redetectStatus = h("p", { id: "redetect-status", class: "redetect-status", role: "status" });
  let relabelling = false;

  els.addSpeaker.after(
    h(
      "div",
      { class: "speaker-tool", role: "group", "aria-labelledby": "merge-title" },
      h("h3", { id: "merge-title", class: "tool-title" }, "話者をまとめる"),
      h("div", { class: "tool-row" }, h("label", { for: "merge-from" }, "この話者の発言を"), mergeFrom),
      h("div", { class: "tool-row" }, h("label", { for: "merge-into" }, "この話者に"), mergeInto),
      mergeButton,
    ),
    h(
      "div",
      { class: "speaker-tool", role: "group", "aria-labelledby": "redetect-title", "aria-describedby": "redetect-note" },
      h("h3", { id: "redetect-title", class: "tool-title" }, "話者を判定し直す"),
      h("div", { class: "tool-row" }, h("label", { for: "redetect-count" }, "話者の数"), redetectCount, redetectButton),
      redetectNote,
      redetectStatus,
    ),
  );

  /** A speaker in a list to choose from: by name (with the id, two may share a name), else 発言者A …. */
  function label(s) {
    return s.name.trim() ? `${s.name.trim()}(${s.id})` : ed.view.speakerName(s.id);
  }

  function renderTools() {
    const keep = [mergeFrom.value, mergeInto.value];
    const options = () => state.speakers.map((s) => h("option", { value: s.id }, label(s)));
    mergeFrom.replaceChildren(...options());
    mergeInto.replaceChildren(...options());
    if (state.speakers.some((s) => s.id === keep[0])) mergeFrom.value = keep[0];
    if (state.speakers.some((s) => s.id === keep[1])) mergeInto.value = keep[1];
    else if (state.speakers.length > 1) mergeInto.value = state.speakers[1].id;
    const canMerge = ed.view.editable() && state.speakers.length > 1;
    mergeButton.disabled = mergeFrom.disabled = mergeInto.disabled = !canMerge;
    // Relabelling replaces the machine transcript: not once minutes are saved (nor while edits wait).
    const saved = state.revision > 0 || state.dirty;
    const noAudio = !ed.data.audio;
    redetectButton.disabled = redetectCount.disabled = relabelling || saved || noAudio || !state.loaded;
    if (relabelling) return;
    redetectNote.textContent = saved
      ? "編集を保存した後は、話者を判定し直せません(判定し直すのは認識結果で、保存した議事録には及ばないため)。話者は「まとめる」や発言ごとのメニューで直してください。"
      : noAudio
        ? "音声が削除されているため、話者を判定し直せません。"
        : "音声から話者を判定し直します。文字は変わりません。編集を始める前に使ってください。";
    const current = new Set(state.segs.map((seg) => seg.speaker)).size;
    if (!redetectCount.dataset.touched) redetectCount.value = String(Math.min(10, Math.max(2, current)));
  }

  mergeButton.addEventListener("click", () => {
    const from = mergeFrom.value;
    const into = mergeInto.value;
    if (from === into) {
      announce("同じ話者どうしはまとめられません。違う話者を選んでください。");
      mergeInto.focus();
      return;
    }
    mergeSpeaker(from, into);
  });
  redetectCount.addEventListener("change", () => (redetectCount.dataset.touched = "1"));

  async function redetect() {
    if (state.revision > 0 || state.dirty) {
      renderTools();
      redetectStatus.textContent = "編集を保存した後は、話者を判定し直せません。";
      return;
    }
    const count = Number(redetectCount.value);
    if (!confirm(`話者を ${count} 人として判定し直します。文字は変わりません。終わるまで編集はできません。よろしいですか?`)) return;
    relabelling = true;
    state.relabelling = true;
    ed.view.setEditable();
    renderTools();
    redetectStatus.textContent = "判定を始めています…";
    try {
      await api(`${ed.base}/speakers`, { method: "POST", json: { count }, redirectOn401: false });
    } catch (error) {
      relabelling = false;
      state.relabelling = false;
      ed.view.setEditable();
      redetectStatus.textContent = `判定し直せませんでした: ${errorText(error)}`;
      renderTools();
      return;
    }
    poll();
  }

  async function poll() {
    let recording;
    try {
      recording = await api(ed.base, { redirectOn401: false });
    } catch {
      setTimeout(poll, 3000);
      return;
    }
    if (recording.status === "queued" || recording.status === "running") {
      redetectStatus.textContent =
        recording.status === "running" ? progressPhrase(recording.stage, recording.progress) : "順番を待っています…";
      setTimeout(poll, 1500);
      return;
    }
    relabelling = false;
    state.relabelling = false;
    if (recording.status === "succeeded") {
      await ed.loader.load();
      redetectStatus.textContent = `話者を ${state.speakers.length} 人として判定し直しました。`;
      announce(redetectStatus.textContent);
    } else {
      ed.view.setEditable();
      redetectStatus.textContent = `判定し直せませんでした(文字起こしはそのままです): ${recording.error || "原因不明のエラー"}`;
      renderTools();
    }
  }

  redetectButton.addEventListener("click", redetect);

  return { render: renderSpeakers, updateCounts, openMenu, mergeSpeaker, renderTools, refreshNames };
}
