// 辞書に追加: a small dialog that proposes a clerk's correction (what the recogniser wrote → what the
// minutes must say) as a term of her department's dictionary. Accepting it happens on the dictionaries
// page; once accepted, the department's next recordings get the word right.
//
// The reading: the API reads what the recogniser wrote when no reading is sent (クマタ → くまた), so
// the field is pre-filled here only when that is plain kana, and otherwise left empty for the API.
import { $, announce, api, errorText } from "./common.js";
import { kanaReading } from "./review-model.js";

const STATS = "/api/v1/term-proposals/stats";

/** The 「辞書に追加」 dialog of the editor page; ``onDone(message)`` shows the outcome on the page. */
export function createTermDialog({ recordingId, onDone }) {
  const dialog = $("term-dialog");
  const form = $("term-dialog-form");
  const fields = {
    term: $("td-term"),
    before: $("td-before"),
    reading: $("td-reading"),
    category: $("td-category"),
  };
  const error = $("td-error");
  const readingHint = $("td-reading-hint");
  const stats = $("td-stats");
  const submit = $("td-submit");
  let where = {};
  let returnTo = null;

  async function showStats() {
    try {
      const rows = await api(STATS);
      const accepted = rows.reduce((n, r) => n + r.accepted, 0);
      const waiting = rows.reduce((n, r) => n + r.proposed, 0);
      stats.textContent =
        `この部署で「辞書に追加」から辞書に入った用語: ${accepted} 語` + (waiting ? `(採用を待つ提案 ${waiting} 件)` : "");
    } catch {
      stats.textContent = "";
    }
  }

  function describeReading() {
    const before = fields.before.value.trim();
    readingHint.textContent = before
      ? `空欄のときは「${before}」の読みを自動で入れます。漢字の聞き間違いは、正しい用語の読みを入れてください。`
      : "ひらがなかカタカナで入れてください。";
  }

  /** Open with {term, before, category, segment, start, end}; focus goes back to ``from`` afterwards. */
  function open(draft, from = document.activeElement) {
    returnTo = from;
    where = { segment: draft.segment, start: draft.start, end: draft.end };
    fields.term.value = draft.term || "";
    fields.before.value = draft.before || "";
    fields.reading.value = kanaReading(draft.before);
    fields.category.value = draft.category || "";
    error.hidden = true;
    submit.disabled = false;
    describeReading();
    showStats();
    dialog.showModal();
    (fields.term.value ? (fields.before.value ? fields.reading : fields.before) : fields.term).focus();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", () => {
    if (returnTo?.isConnected) returnTo.focus({ preventScroll: true });
    returnTo = null;
  });
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]") || event.target === dialog) close();
  });
  fields.before.addEventListener("input", describeReading);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const term = fields.term.value.trim();
    const before = fields.before.value.trim();
    const problem = !term
      ? [fields.term, "用語(正しい書き方)を入れてください。"]
      : !before
        ? [fields.before, "認識結果の表記(間違っていた書き方)を入れてください。"]
        : term === before
          ? [fields.before, "用語と、認識結果の表記が同じです。間違っていた書き方を入れてください。"]
          : null;
    if (problem) {
      error.textContent = problem[1];
      error.hidden = false;
      problem[0].focus();
      return;
    }
    const body = { before, after: term, category: fields.category.value.trim(), ...where };
    const reading = fields.reading.value.trim();
    if (reading) body.reading = reading; // otherwise the API reads ``before``
    submit.disabled = true;
    try {
      const response = await api(`/api/v1/recordings/${recordingId}/term-proposals`, {
        method: "POST",
        json: body,
        raw: true,
      });
      const proposal = await response.json();
      const again = response.status === 200;
      const message = again
        ? `「${proposal.alias}」→「${proposal.term}」は、すでに提案されています(採用を待っています)。`
        : `「${proposal.alias}」→「${proposal.term}」(読み: ${proposal.reading || "なし"})を辞書への追加として提案しました。辞書のページで採用されると、次の録音から自動で直ります。`;
      close();
      announce(message);
      onDone(message);
    } catch (failure) {
      error.textContent = errorText(failure);
      error.hidden = false;
      submit.disabled = false;
    }
  });

  return {
    open,
    get isOpen() {
      return dialog.open;
    },
  };
}
