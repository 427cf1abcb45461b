// 確認モード and 辞書に追加 without the page: the doubtful places of the machine transcript, and how a
// place (or a word the clerk corrected) lines up between the machine's text and the edited minutes.
//
// A place is {key, kinds, segment, mStart, mEnd, start, end, text, reasons, before, after, reason, confidence}:
// ``segment`` is the machine segment's index and [mStart, mEnd) the characters of its text; start/end
// are seconds. The minutes may have been edited (split, merged, retyped) since, so a place is found
// in them by time first and then by aligning the machine's text with the edited one.
import { correctionReason, LOW_CONFIDENCE, wordSpans } from "./transcript-model.js";

// The same threshold as the page's wavy underline (transcript-model.js), so the walk visits exactly
// the words the page marks. On the dev set (bundled Whisper base, 3,570 words, 15 % of them wrong),
// words under 0.5 are 13 % of all words and 47 % of them are wrong (three times the base rate), and
// they hold 39 % of the wrong words; precision stays near 46-50 % from 0.2 to 0.6 and falls above.
export const REVIEW_CONFIDENCE = LOW_CONFIDENCE;
export const LEAD_SECONDS = 1.0; // play from a little before the place …
export const TAIL_SECONDS = 0.6; // … to a little after it
const MAX_ALIGN = 600 * 600; // character cells of one alignment; beyond it, one changed block

export const FLAG_LABELS = {
  repetition: "繰り返しの疑い",
  silence: "無音部分の文字の疑い",
  caption: "定型文(字幕)の疑い",
};
const FLAG_REASONS = {
  repetition: "同じ言葉が不自然に繰り返されています。音声にない言葉かもしれません。",
  silence: "話し声のない部分に文字が書かれています。音声にない言葉かもしれません。",
  caption: "「ご視聴ありがとうございました」のような、音声にないことが多い決まり文句です。",
};
// What kind of place to check a review place is (not a recording's kind: those are common.js KIND_LABELS).
export const PLACE_KIND_LABELS = { low: "要確認の語", corr: "辞書による修正", flag: "音声にない言葉の疑い" };

function number(value, fallback) {
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/** Seconds of characters [from, to) of a machine segment, from the words there (else the segment). */
function timesOf(seg, spans, from, to) {
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    if (s.end > from && s.start < to) {
      start = Math.min(start, number(s.word.start, seg.start));
      end = Math.max(end, number(s.word.end, seg.end));
    }
  }
  if (start === Infinity) {
    const length = Math.max(1, seg.text.length);
    const span = seg.end - seg.start;
    return { start: seg.start + (span * from) / length, end: seg.start + (span * to) / length };
  }
  return { start, end: Math.max(start, end) };
}

/** Characters of a machine segment said between two times (the words there), else where ``text`` is. */
function charsOf(seg, spans, start, end, text) {
  const inside = spans.filter((s) => number(s.word.end, 0) > start + 0.01 && number(s.word.start, 0) < end - 0.01);
  if (inside.length) return { mStart: inside[0].start, mEnd: inside[inside.length - 1].end };
  const at = text ? seg.text.indexOf(text) : -1;
  if (at >= 0) return { mStart: at, mEnd: at + text.length };
  return { mStart: 0, mEnd: seg.text.length };
}

function machineSegments(transcript) {
  return (transcript.segments || []).map((s) => ({
    start: number(s.start, 0),
    end: number(s.end, 0),
    text: String(s.text ?? ""),
    words: Array.isArray(s.words) ? s.words : [],
  }));
}

/** Every doubtful place of a machine transcript, in time order (overlapping ones of a segment merged). */
export function placesFrom(transcript, threshold = REVIEW_CONFIDENCE) {
  const segments = machineSegments(transcript);
  const spansOf = segments.map((seg) => wordSpans({ ...seg }));
  const places = [];
  segments.forEach((seg, index) => {
    let run = null;
    for (const span of spansOf[index]) {
      const confidence = span.word.confidence;
      if (typeof confidence === "number" && confidence < threshold) {
        if (run) {
          run.mEnd = span.end; // adjacent low words are one place: one listen, one decision
          run.confidence = Math.min(run.confidence, confidence);
        } else {
          run = { kinds: ["low"], segment: index, mStart: span.start, mEnd: span.end, confidence };
          places.push(run);
        }
      } else {
        run = null;
      }
    }
  });
  for (const c of transcript.corrections || []) {
    const seg = segments[c.segment];
    if (!seg) continue;
    const mStart = Math.max(0, Math.min(seg.text.length, number(c.start, 0)));
    const mEnd = Math.max(mStart, Math.min(seg.text.length, number(c.end, mStart)));
    places.push({ kinds: ["corr"], segment: c.segment, mStart, mEnd, before: String(c.before ?? ""), after: String(c.after ?? ""), reason: correctionReason(c) });
  }
  for (const f of transcript.flags || []) {
    const seg = segments[f.segment];
    if (!seg) continue;
    const start = number(f.start, seg.start);
    const end = number(f.end, seg.end);
    const chars = charsOf(seg, spansOf[f.segment], start, end, String(f.text ?? ""));
    places.push({ kinds: ["flag"], flag: String(f.kind ?? ""), flagReason: String(f.reason ?? ""), segment: f.segment, ...chars, start, end });
  }
  for (const p of places) {
    const seg = segments[p.segment];
    if (p.start === undefined) Object.assign(p, timesOf(seg, spansOf[p.segment], p.mStart, p.mEnd));
  }
  places.sort((a, b) => a.start - b.start || a.segment - b.segment || a.mStart - b.mStart);
  const merged = [];
  for (const p of places) {
    const last = merged[merged.length - 1];
    if (last && last.segment === p.segment && p.mStart < last.mEnd) {
      for (const kind of p.kinds) if (!last.kinds.includes(kind)) last.kinds.push(kind);
      last.mEnd = Math.max(last.mEnd, p.mEnd);
      last.end = Math.max(last.end, p.end);
      last.confidence = last.confidence ?? p.confidence;
      last.before = last.before ?? p.before;
      last.after = last.after ?? p.after;
      last.reason = last.reason ?? p.reason;
      last.flag = last.flag ?? p.flag;
      last.flagReason = last.flagReason ?? p.flagReason;
      continue;
    }
    merged.push({ ...p });
  }
  for (const p of merged) {
    p.text = segments[p.segment].text.slice(p.mStart, p.mEnd);
    p.key = `${p.segment}:${p.mStart}:${p.mEnd}`;
    p.reasons = reasonsOf(p);
  }
  return merged;
}

function reasonsOf(p) {
  const reasons = [];
  if (p.kinds.includes("flag")) reasons.push(p.flagReason || FLAG_REASONS[p.flag] || "音声にない言葉かもしれません。");
  if (p.kinds.includes("corr")) reasons.push(`${p.reason ?? `「${p.before}」を「${p.after}」に直しました。`}正しい言葉か確かめてください。`);
  if (p.kinds.includes("low")) {
    const percent = Math.round((p.confidence ?? 0) * 100);
    reasons.push(`聞き取りの確からしさが低い語です(${percent}%)。音声で確かめてください。`);
  }
  return reasons;
}

/** The label of a place's kind(s) for the badge. */
export function placeLabel(p) {
  if (p.kinds.includes("flag")) return FLAG_LABELS[p.flag] || PLACE_KIND_LABELS.flag;
  return PLACE_KIND_LABELS[p.kinds[0]] || "要確認";
}

// --- alignment of the machine's text with the edited one ------------------------------------------

/** The blocks that differ between ``a`` and ``b``, in order: [{a0, a1, b0, b1}] (a character LCS). */
export function diffHunks(a, b) {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  if (!x.length && !y.length) return [];
  if (!x.length || !y.length || x.length * y.length > MAX_ALIGN) {
    return [{ a0: pre, a1: pre + x.length, b0: pre, b1: pre + y.length }];
  }
  // LCS lengths of the suffixes, then walk forward collecting runs of unmatched characters.
  const n = x.length;
  const m = y.length;
  const w = m + 1;
  const table = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * w + j] = x[i] === y[j] ? table[(i + 1) * w + j + 1] + 1 : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
    }
  }
  const hunks = [];
  let open = null;
  let i = 0;
  let j = 0;
  const close = () => {
    if (open) hunks.push({ a0: open.a0 + pre, a1: i + pre, b0: open.b0 + pre, b1: j + pre });
    open = null;
  };
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      close();
      i++;
      j++;
      continue;
    }
    if (!open) open = { a0: i, b0: j };
    if (j >= m || (i < n && table[(i + 1) * w + j] >= table[i * w + j + 1])) i++;
    else j++;
  }
  close();
  return hunks;
}

function swap(hunks) {
  return hunks.map((h) => ({ a0: h.b0, a1: h.b1, b0: h.a0, b1: h.a1 }));
}

/**
 * Characters [start, end) of ``a`` in ``b``, widened to whole changed blocks it touches: a word the
 * clerk retyped maps to what she typed. An insertion exactly at either edge stays outside.
 */
export function mapRange(hunks, start, end, fromB = false) {
  const list = fromB ? swap(hunks) : hunks;
  let s = start;
  let e = end;
  for (const h of list) {
    const touches = h.a0 < h.a1 ? h.a0 < e && h.a1 > s : s < h.a0 && h.a0 < e;
    if (touches) {
      s = Math.min(s, h.a0);
      e = Math.max(e, h.a1);
    }
  }
  const at = (p, forEnd) => {
    let mapped = p;
    for (const h of list) {
      const before = forEnd ? h.a1 < p || (h.a1 === p && h.a0 < h.a1) : h.a1 <= p;
      if (before) mapped = h.b1 + (p - h.a1);
    }
    return mapped;
  };
  const b0 = at(s, false);
  return { start: b0, end: Math.max(b0, at(e, true)), widened: { start: s, end: e } };
}

// --- the minutes' utterance for a time -------------------------------------------------------------

/** The edited utterance that best covers [start, end] (most overlap, else the one starting before). */
export function minutesSegmentFor(segs, start, end) {
  let best = -1;
  let bestOverlap = 0;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg.start > end + 0.01) break;
    const overlap = Math.min(seg.end, end) - Math.max(seg.start, start);
    if (overlap > bestOverlap || (best < 0 && overlap >= 0)) {
      best = i;
      bestOverlap = Math.max(overlap, bestOverlap);
    }
  }
  if (best >= 0) return best;
  let found = 0;
  for (let i = 0; i < segs.length; i++) if (segs[i].start <= start) found = i;
  return segs.length ? found : -1;
}

/** The machine segments said during an edited utterance (always including ``must``), in order. */
function machineFor(machine, seg, must) {
  const picked = [];
  machine.segments.forEach((m, index) => {
    const overlap = Math.min(m.end, seg.end) - Math.max(m.start, seg.start);
    if (index === must || overlap > 0.05 || (m.start >= seg.start && m.end <= seg.end)) picked.push(index);
  });
  return picked;
}

/** The machine's text of the given segments joined, with where each one starts in it. */
function joined(machine, indexes) {
  let text = "";
  const offsets = new Map();
  for (const index of indexes) {
    offsets.set(index, text.length);
    text += machine.segments[index].text;
  }
  return { text, offsets };
}

/** A machine transcript prepared for lookups (its segments normalised once). */
export function prepareMachine(transcript) {
  return { segments: machineSegments(transcript), corrections: transcript.corrections || [] };
}

/**
 * Where a place is in the edited minutes: {index, start, end} (characters of that utterance's text;
 * start === end when the clerk deleted the words).
 */
export function locatePlace(machine, segs, place) {
  const index = minutesSegmentFor(segs, place.start, place.end);
  if (index < 0) return null;
  const seg = segs[index];
  const { text, offsets } = joined(machine, machineFor(machine, seg, place.segment));
  const base = offsets.get(place.segment) ?? 0;
  const mapped = mapRange(diffHunks(text, seg.text), base + place.mStart, base + place.mEnd);
  return { index, start: mapped.start, end: mapped.end };
}

/** What the recogniser wrote for machine characters [from, to) of a segment (the dictionary's changes undone). */
function rawMachineText(machine, segment, from, to) {
  const text = machine.segments[segment].text;
  let out = text.slice(from, to);
  const inside = machine.corrections
    .filter((c) => c.segment === segment && c.start >= from && c.end <= to)
    .sort((x, y) => y.start - x.start);
  for (const c of inside) out = out.slice(0, c.start - from) + String(c.before ?? "") + out.slice(c.end - from);
  return out;
}

/**
 * 辞書に追加: what the clerk's selection [start, end) of edited utterance ``seg`` replaced. Returns
 * {term, before}: ``before`` is what the recogniser wrote there (before the dictionary's changes), or
 * "" when the words are as the machine wrote them.
 */
export function correctionAt(machine, seg, start, end) {
  const term = seg.text.slice(start, end).trim();
  if (!machine || !machine.segments.length) return { term, before: "" };
  const indexes = machineFor(machine, seg, -1);
  if (!indexes.length) return { term, before: "" };
  const { text, offsets } = joined(machine, indexes);
  const back = mapRange(diffHunks(text, seg.text), start, end, true);
  let before = "";
  for (const index of indexes) {
    const from = offsets.get(index);
    const to = from + machine.segments[index].text.length;
    const a = Math.max(from, back.start);
    const b = Math.min(to, back.end);
    if (b > a) before += rawMachineText(machine, index, a - from, b - from);
  }
  before = before.trim();
  // A selection inside what the clerk typed grows to all of it (she picked part of her correction).
  const widenedTerm = seg.text.slice(back.widened.start, back.widened.end).trim();
  const chosen = widenedTerm.length > term.length ? widenedTerm : term;
  return { term: chosen, before: before === chosen ? "" : before };
}

/** The hiragana of a kana word (what the API pre-fills as the reading), else "". */
export function kanaReading(text) {
  const t = String(text || "").trim();
  if (!t || !/^[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb]+$/u.test(t)) return "";
  return t.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
}
