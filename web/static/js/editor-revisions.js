// 版の履歴: the saved versions of the minutes (newest first, then the machine transcript as 版 0), and
// going back to one of them, which is saved as a new version so that nothing is lost.
import { $, announce, api, errorText, formatDateTime, formatTime, h, people, revisionName } from "./common.js";

/** The revisions dialog of one editor page; ``ed`` is the page's shared context. */
export function createRevisions(ed) {
  const { els, state } = ed;

  async function openRevisions() {
    els.revisionsError.hidden = true;
    els.revisionsList.replaceChildren(h("li", {}, "読み込み中…"));
    els.revisions.showModal();
    try {
      const [revisions, names] = await Promise.all([api(`${ed.base}/minutes/revisions`), people()]);
      const items = [...revisions].reverse().map((r) => revisionItem(r, names));
      items.push(
        revisionItem({ revision: 0, author_id: null, created_at: state.recording?.finished_at || null }, names),
      );
      els.revisionsList.replaceChildren(...items);
    } catch (error) {
      els.revisionsList.replaceChildren();
      els.revisionsError.textContent = errorText(error);
      els.revisionsError.hidden = false;
    }
  }

  function revisionItem(r, names) {
    const current = r.revision === state.revision;
    const who = r.revision === 0 ? "自動で作成" : `保存: ${names.users[String(r.author_id)] || "—"}`;
    return h(
      "li",
      {},
      h("span", { class: "rev-no" }, revisionName(r.revision)),
      h("span", { class: "rev-meta" }, `${r.created_at ? formatDateTime(r.created_at) : ""} ${who}`),
      current
        ? h("span", { class: "current" }, "現在の版")
        : h(
            "button",
            {
              type: "button",
              class: "btn btn-small",
              disabled: state.conflict,
              onclick: () => restoreRevision(r.revision),
            },
            "この版に戻す",
          ),
    );
  }

  async function restoreRevision(number) {
    if (!confirm(`${revisionName(number)}の内容に戻します。今の内容も版の履歴に残ります。よろしいですか?`)) return;
    try {
      if (state.dirty) await ed.save.saveNow();
      if (state.conflict || state.dirty) return;
      const body = await api(`${ed.base}/minutes/revisions/${number}`);
      const saved = await ed.save.putMinutes({ header: body.header, transcript: body.transcript });
      ed.loader.applyMinutes(saved);
      els.revisions.close();
      ed.save.setSaveState("saved", `保存済み ${formatTime(new Date())}`);
      announce(`${revisionName(number)}の内容に戻しました(${revisionName(saved.revision)}として保存)。`);
    } catch (error) {
      if (error.status === 409) {
        els.revisions.close();
        ed.save.enterConflict();
        return;
      }
      els.revisionsError.textContent = errorText(error);
      els.revisionsError.hidden = false;
    }
  }

  $("revisions-open").addEventListener("click", openRevisions);
  els.revisions.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]") || event.target === els.revisions) els.revisions.close();
  });

  return { isOpen: () => els.revisions.open };
}
