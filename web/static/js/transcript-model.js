// The editor's transcript operations, without the page: kiroku.transcript/1 in and out, word
// positions, dictionary corrections that follow edits, split and merge, find, fillers.
//
// Inside the editor a segment is {uid, start, end, speaker, text, words, corr}: ``corr`` holds the
// segment's dictionary corrections ({start, end, before, after, term, rule}, character offsets of
// ``after`` in ``text``); ``toMinutes`` turns them back into the transcript's ``corrections`` list.

export const LOW_CONFIDENCE = 0.5;

let nextUid = 1;

/** The editor's segments from a transcript (corrections that no longer match are dropped). */
export function fromTranscript(transcript) {
  const segments = (transcript.segments || []).map((s) => ({
    uid: nextUid++,
    start: Number(s.start) || 0,
    end: Number(s.end) || 0,
    speaker: s.speaker || "S1",
    text: String(s.text ?? ""),
    words: Array.isArray(s.words) ? s.words.map((w) => ({ ...w })) : [],
    corr: [],
  }));
  for (const c of transcript.corrections || []) {
    const seg = segments[c.segment];
    if (!seg) continue;
    const placed = placeCorrection(seg.text, c);
    if (placed) seg.corr.push(placed);
  }
  for (const seg of segments) seg.corr.sort((a, b) => a.start - b.start);
  const speakers = [];
  const seen = new Set();
  for (const s of transcript.speakers || []) {
    if (!s || !s.id || seen.has(s.id)) continue;
    seen.add(s.id);
    const name = s.name ? String(s.name) : "";
    // 声で推定: a name pre-filled from a known voice, shown marked until a clerk confirms it.
    speakers.push(s.voice_estimated && name ? { id: String(s.id), name, estimated: true } : { id: String(s.id), name });
  }
  for (const seg of segments) {
    if (!seen.has(seg.speaker)) {
      seen.add(seg.speaker);
      speakers.push({ id: seg.speaker, name: "" });
    }
  }
  return { segments, speakers };
}

/**
 * Why the dictionary changed ``before`` to ``after``, for the clerk deciding whether to keep it:
 * a registered wrong form, the same reading, or the recogniser hearing the place again.
 */
export function correctionReason(c) {
  const change = `「${c.before}」を「${c.after}」に直しました。`;
  const term = c.term || c.after;
  if (c.rule === "alias") return `用語辞書に登録された誤表記なので、${change}`;
  if (c.rule === "reading") return `用語「${term}」と読みが同じなので、${change}`;
  if (c.rule === "redecode") return `音声を聞き直すと用語「${term}」と聞こえたので、${change}`;
  return `用語辞書で${change}`;
}

/** Where a correction's ``after`` is in the text: its recorded span, else the nearest occurrence. */
function placeCorrection(text, c) {
  const after = String(c.after ?? "");
  if (!after) return null;
  const base = {
    before: String(c.before ?? ""),
    after,
    term: String(c.term ?? after),
    rule: String(c.rule ?? ""),
  };
  if (text.slice(c.start, c.end) === after) return { ...base, start: c.start, end: c.end };
  let best = -1;
  for (let at = text.indexOf(after); at >= 0; at = text.indexOf(after, at + 1)) {
    if (best < 0 || Math.abs(at - c.start) < Math.abs(best - c.start)) best = at;
  }
  return best >= 0 ? { ...base, start: best, end: best + after.length } : null;
}

/** The minutes JSON to save: header, and the transcript with ``rest`` (duration, turns …) kept. */
export function toMinutes(header, rest, speakers, segments) {
  const corrections = [];
  const out = segments.map((seg, index) => {
    for (const c of seg.corr) {
      corrections.push({
        segment: index,
        start: c.start,
        end: c.end,
        before: c.before,
        after: c.after,
        term: c.term,
        rule: c.rule,
      });
    }
    return { start: seg.start, end: seg.end, speaker: seg.speaker, text: seg.text, words: seg.words };
  });
  const used = new Set(segments.map((s) => s.speaker));
  const listed = speakers.filter((s) => used.has(s.id) || s.name);
  const transcript = {
    ...rest,
    speakers: listed.map((s) =>
      s.name ? { id: s.id, name: s.name, ...(s.estimated ? { voice_estimated: true } : {}) } : { id: s.id },
    ),
    segments: out,
    corrections,
  };
  return { header: { ...header }, transcript };
}

/** Each word's place in the text ({start, end, word}), found in order; words the clerk rewrote are missing. */
export function wordSpans(seg) {
  if (seg._spansText === seg.text && seg._spansWords === seg.words) return seg._spans;
  const spans = [];
  const text = seg.text;
  let pos = 0;
  for (const word of seg.words) {
    const wordText = String(word.text ?? "").trim();
    if (!wordText) continue;
    const at = text.indexOf(wordText, pos);
    // Only near where the previous word ended: a far match would be another occurrence.
    if (at < 0 || at - pos > 12) continue;
    spans.push({ start: at, end: at + wordText.length, word });
    pos = at + wordText.length;
  }
  seg._spans = spans;
  seg._spansText = seg.text;
  seg._spansWords = seg.words;
  return spans;
}

export function lowConfidenceSpans(seg) {
  return wordSpans(seg).filter((s) => typeof s.word.confidence === "number" && s.word.confidence < LOW_CONFIDENCE);
}

/** The time of the word at a character offset (else the segment's start, or a proportional guess). */
export function timeAt(seg, offset) {
  const spans = wordSpans(seg);
  for (const span of spans) {
    if (offset < span.end) return Math.max(seg.start, Number(span.word.start) || seg.start);
  }
  if (spans.length) return seg.start;
  const length = Math.max(1, seg.text.length);
  return seg.start + ((seg.end - seg.start) * Math.min(offset, length)) / length;
}

// Hesitations and stammered repeats clerks leave out of minutes (ケバ取り). One decision with the 整文
// export: the patterns are service.records.tidy's, given to the page (written in the syntax Python and
// JavaScript share). Only shown hidden here, never removed from the text.
let FILLERS = [];

export function useFillerPatterns(patterns) {
  FILLERS = Object.values(patterns || {}).map((source) => new RegExp(source, "gu"));
}

export function fillerSpans(text) {
  const found = [];
  for (const pattern of FILLERS) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      if (!m[0]) {
        pattern.lastIndex++;
        continue;
      }
      found.push({ start: m.index, end: m.index + m[0].length });
    }
  }
  found.sort((a, b) => a.start - b.start);
  const spans = [];
  for (const span of found) {
    const last = spans[spans.length - 1];
    if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
    else spans.push(span);
  }
  return spans;
}

export function withoutFillers(text) {
  let out = "";
  let pos = 0;
  for (const s of fillerSpans(text)) {
    out += text.slice(pos, s.start);
    pos = s.end;
  }
  return out + text.slice(pos);
}

/** The changed stretch between two texts: [start, oldEnd) became [start, newEnd). */
export function diffRange(before, after) {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let oldEnd = before.length;
  let newEnd = after.length;
  while (oldEnd > start && newEnd > start && before.charCodeAt(oldEnd - 1) === after.charCodeAt(newEnd - 1)) {
    oldEnd--;
    newEnd--;
  }
  return { start, oldEnd, newEnd };
}

/** Corrections after an edit: those before or after it move with the text; one it touched is dropped. */
export function shiftCorrections(corr, change) {
  const delta = change.newEnd - change.oldEnd;
  const kept = [];
  for (const c of corr) {
    if (c.end <= change.start) {
      kept.push(c);
    } else if (c.start >= change.oldEnd) {
      kept.push({ ...c, start: c.start + delta, end: c.end + delta });
    }
    // Overlapping: the clerk rewrote the corrected words themselves; there is nothing left to undo.
  }
  return kept;
}

/** Set a segment's text (as typed, replaced or restored), keeping its corrections in place. */
export function setText(seg, text) {
  if (text === seg.text) return false;
  const change = diffRange(seg.text, text);
  seg.corr = shiftCorrections(seg.corr, change);
  seg.text = text;
  return true;
}

/** Replace characters [start, end) of a segment's text. */
export function replaceRange(seg, start, end, replacement) {
  return setText(seg, seg.text.slice(0, start) + replacement + seg.text.slice(end));
}

/** Put a dictionary correction back to what the recogniser wrote. */
export function undoCorrection(seg, correction) {
  const index = seg.corr.indexOf(correction);
  if (index < 0) return false;
  const { start, end, before } = correction;
  const delta = before.length - (end - start);
  seg.text = seg.text.slice(0, start) + before + seg.text.slice(end);
  seg.corr = seg.corr
    .filter((c) => c !== correction)
    .map((c) => (c.start >= end ? { ...c, start: c.start + delta, end: c.end + delta } : c));
  return true;
}

/** Two segments from one, cut at character ``offset``; the time cut is where the next word starts. */
export function splitSegment(seg, offset) {
  const text = seg.text;
  if (offset <= 0 || offset >= text.length) return null;
  let cut = null;
  const spans = wordSpans(seg);
  const next = spans.find((s) => s.start >= offset);
  const prev = [...spans].reverse().find((s) => s.end <= offset);
  if (next && Number.isFinite(Number(next.word.start))) cut = Number(next.word.start);
  else if (prev && Number.isFinite(Number(prev.word.end))) cut = Number(prev.word.end);
  if (cut === null) cut = seg.start + ((seg.end - seg.start) * offset) / text.length;
  cut = Math.min(Math.max(cut, seg.start), seg.end);
  const firstWords = [];
  const secondWords = [];
  for (const word of seg.words) (Number(word.start) < cut ? firstWords : secondWords).push(word);
  const first = {
    uid: nextUid++,
    start: seg.start,
    end: cut,
    speaker: seg.speaker,
    text: text.slice(0, offset),
    words: firstWords,
    corr: seg.corr.filter((c) => c.end <= offset),
  };
  const second = {
    uid: nextUid++,
    start: cut,
    end: seg.end,
    speaker: seg.speaker,
    text: text.slice(offset),
    words: secondWords,
    corr: seg.corr.filter((c) => c.start >= offset).map((c) => ({ ...c, start: c.start - offset, end: c.end - offset })),
  };
  return [first, second];
}

/** One segment from two neighbours (the first one's speaker). */
export function mergeSegments(first, second) {
  const shift = first.text.length;
  return {
    uid: nextUid++,
    start: Math.min(first.start, second.start),
    end: Math.max(first.end, second.end),
    speaker: first.speaker,
    text: first.text + second.text,
    words: [...first.words, ...second.words],
    corr: [...first.corr, ...second.corr.map((c) => ({ ...c, start: c.start + shift, end: c.end + shift }))],
  };
}

/** Every occurrence of ``query`` in the segments' texts: [{seg, index, start, end}]. */
export function findAll(segments, query, limit = 20000) {
  const found = [];
  if (!query) return found;
  for (let index = 0; index < segments.length; index++) {
    const text = segments[index].text;
    for (let at = text.indexOf(query); at >= 0; at = text.indexOf(query, at + query.length)) {
      found.push({ seg: segments[index], index, start: at, end: at + query.length });
      if (found.length >= limit) return found;
    }
  }
  return found;
}

const KANJI_DIGITS = "〇一二三四五六七八九";

/** Text folded for matching (full/half width, kana, kanji digits), with each folded character's source index. */
export function fold(text) {
  let out = "";
  const from = [];
  for (let i = 0; i < text.length; i++) {
    const digit = KANJI_DIGITS.indexOf(text[i]);
    let piece = digit >= 0 ? String(digit) : text[i].normalize("NFKC").toLowerCase();
    piece = piece.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
    out += piece;
    for (let k = 0; k < piece.length; k++) from.push(i);
  }
  return { out, from };
}

/** Where ``query`` is, folded, in segment ``index`` or its neighbours (the nearest first): {index, start, end}. */
export function findNear(segments, index, query) {
  const q = fold(query).out;
  if (!q) return null;
  for (const k of [index, index + 1, index - 1, index + 2, index - 2]) {
    const seg = segments[k];
    if (!seg) continue;
    const folded = fold(seg.text);
    const at = folded.out.indexOf(q);
    if (at >= 0) return { index: k, start: folded.from[at], end: folded.from[at + q.length - 1] + 1 };
  }
  return null;
}

/** The index of the last segment starting at or before ``time`` (segments are in time order). */
export function segmentAt(segments, time) {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].start <= time) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** A new speaker id: S followed by the next free number. */
export function newSpeakerId(speakers) {
  let n = 0;
  for (const s of speakers) {
    const m = /^S(\d+)$/.exec(s.id);
    if (m) n = Math.max(n, Number(m[1]));
  }
  let id = `S${n + 1}`;
  while (speakers.some((s) => s.id === id)) id = `S${++n + 1}`;
  return id;
}

/** Plain text of the minutes, for a clerk to keep (e.g. when a save was refused). */
export function plainText(speakers, segments, clock) {
  const names = new Map(speakers.map((s) => [s.id, s.name || s.id]));
  return segments.map((s) => `[${clock(s.start)}] ${names.get(s.speaker) || s.speaker}: ${s.text}`).join("\n") + "\n";
}
