// 要確認の基準: which recognised words the editor marks as doubtful, set with a slider and kept in this
// browser. The marks are shaded by how far below the threshold a word's confidence lies (three
// steps), so a clerk sees at a glance which ones most need listening to, instead of one underline for all.
import { $, announce } from "./common.js";
import * as T from "./transcript-model.js";

const KEY = "kiroku:low-threshold";
const MIN = 0.3;
const MAX = 0.9;

/** How doubtful a word below ``threshold`` is: 1 (just below), 2, 3 (far below). */
export function doubtDegree(confidence, threshold) {
  const below = (threshold - confidence) / threshold;
  return below > 0.5 ? 3 : below > 0.2 ? 2 : 1;
}

/** The threshold of one editor page; ``ed`` is the page's shared context. */
export function createConfidence(ed) {
  const input = $("conf-threshold");
  const output = $("conf-threshold-value");
  let threshold = stored();
  let timer = 0;

  function stored() {
    try {
      const value = Number(localStorage.getItem(KEY));
      if (value >= MIN && value <= MAX) return value;
    } catch {
      // storage refused (private window): the default applies
    }
    return T.LOW_CONFIDENCE;
  }

  function label(value) {
    return `${Math.round(value * 100)}% 未満`;
  }

  /** The words of ``seg`` under the threshold: {start, end, word, degree}. */
  function spans(seg) {
    const out = [];
    for (const s of T.wordSpans(seg)) {
      const c = s.word.confidence;
      if (typeof c === "number" && c < threshold) out.push({ ...s, degree: doubtDegree(c, threshold) });
    }
    return out;
  }

  function apply(value) {
    threshold = value;
    try {
      localStorage.setItem(KEY, String(value));
    } catch {
      // kept for this page only
    }
    if (!ed.state.loaded) return;
    ed.view.renderAll();
    ed.view.updateLowCount();
    ed.overview?.draw();
    announce(`確からしさ ${label(value)}の語に印を付けました。`);
  }

  if (input) {
    input.value = String(threshold);
    output.textContent = label(threshold);
    input.addEventListener("input", () => {
      const value = Number(input.value);
      output.textContent = label(value);
      clearTimeout(timer);
      timer = setTimeout(() => apply(value), 150);
    });
  }

  return { spans, threshold: () => threshold };
}
