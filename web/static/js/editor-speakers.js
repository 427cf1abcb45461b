// Speakers in the editor: the side panel (a name per speaker id, and how many utterances each has),
// renaming (every row follows at once), adding a speaker, and the menu on an utterance's speaker
// button that gives the utterance to another (or a new) speaker.
import { $, announce, h } from "./common.js";
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
          h("label", { for: `spk-name-${i}`, class: `spk-id spk-${i % SPEAKER_COLOURS}`, title: `${s.id} の名前` }, s.id),
          input,
          h("span", { class: "spk-count", id: `spk-count-${i}` }, `${counts.get(s.id) || 0} 件の発言`),
        );
      }),
    );
    els.speakerCount.textContent = `(${state.speakers.length})`;
    if (focusedId) els.speakers.querySelector(`[data-speaker-id="${CSS.escape(focusedId)}"]`)?.focus();
  }

  function updateCounts() {
    const counts = new Map();
    for (const seg of state.segs) counts.set(seg.speaker, (counts.get(seg.speaker) || 0) + 1);
    state.speakers.forEach((s, i) => {
      const el = $(`spk-count-${i}`);
      if (el) el.textContent = `${counts.get(s.id) || 0} 件の発言`;
    });
  }

  function renameSpeaker(speaker, name) {
    speaker.name = name.trim().slice(0, 100);
    const label = ed.view.speakerName(speaker.id);
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
    announce(`話者 ${id} を追加しました。名前を入力してください。`);
    return id;
  }

  function setSpeaker(seg, id) {
    if (!ed.view.editable() || seg.speaker === id) return;
    seg.speaker = id;
    ed.view.updateRowSpeaker(seg);
    updateCounts();
    ed.save.markDirty();
    announce(`話者を ${ed.view.speakerName(id)} に変えました。`);
  }

  function openMenu(seg, button) {
    if (!ed.view.editable()) {
      announce("いまは話者を変えられません。");
      return;
    }
    const items = state.speakers.map((s, i) =>
      h(
        "button",
        {
          type: "button",
          class: "menu-item",
          role: "menuitemradio",
          "aria-checked": String(s.id === seg.speaker),
          onclick: () => {
            ed.popover.close();
            setSpeaker(seg, s.id);
          },
        },
        h("span", { class: `spk-id spk-${i % SPEAKER_COLOURS}` }, " "),
        s.name ? `${s.name}(${s.id})` : s.id,
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
            setSpeaker(seg, id);
          },
        },
        "＋ 新しい話者にする",
      ),
    );
    els.popover.setAttribute("role", "menu");
    ed.popover.open(button, items, "話者を選ぶ");
    (els.popover.querySelector('[aria-checked="true"]') || els.popover.querySelector(".menu-item"))?.focus();
  }

  els.addSpeaker.addEventListener("click", () => {
    if (ed.view.editable()) addSpeaker();
  });

  return { render: renderSpeakers, updateCounts, openMenu };
}
