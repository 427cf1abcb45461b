"""Giving words, not whole recogniser segments, their speakers, then cutting utterances at changes.

A Whisper segment often runs across a speaker change; assigning the whole segment to one
speaker would put the second speaker's words in the first one's mouth. Each word goes to the
speaker whose turn covers most of it (ties and gaps keep the previous word's speaker), and
utterances are rebuilt wherever the speaker changes, a pause falls or a sentence ends, and their
start and end follow the speaker's turn rather than the recogniser's tighter word timings.

Backchannels (はい、ええ) the recogniser did write become utterances of their own speaker; those
it did not write stay only in the diarization turns: minutes never get an empty utterance.

A backchannel's short turn often catches a piece of the speaker's word it was said over
(商|品, 12|億|4千万円, 山本|な|子). Two rules keep words whole: a fragment of at most two characters
(not itself a backchannel) between two stretches of one other speaker goes back to that speaker
when its own turn is short and nested in theirs (the diarizer is not sure), and a speaker change
that still falls inside a morpheme of the text (SudachiPy, long units) moves to the morpheme's
edge, the whole morpheme going to the speaker whose turns cover more of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from transcriber.japanese_text import words_to_text
from transcriber.transcript import Segment, Speaker, Word
from transcriber.utterances import split_utterances

# Words a listener says over another's speech (相槌): a general fact of Japanese conversation.
_BACKCHANNELS = frozenset(
    (
        "はい", "ええ", "うん", "ああ", "あー", "はあ", "へえ", "ほう", "おお", "ふうん", "ふーん",
        "そう", "そうそう", "そうですね", "そうですか", "なるほど", "ですね", "ですよね",
        "確かに", "ほんと", "本当", "いえ", "いいえ",
    )
)  # fmt: skip
_NOT_TEXT = set("、。，．,.！？!?・「」『』（）() 　〜~…")
FRAGMENT_CHARS = 2  # a piece this short between one other speaker's words is suspect
UNSURE_TURN = 1.0  # seconds: a turn this short inside another speaker's is a backchannel's


def is_backchannel(text: str) -> bool:
    """はい、ええ、うん … (repeated or with a lengthening ー/っ): a listener's line of its own."""
    written = _bare(text)
    bare = written.rstrip("ーっッ")
    repeated = any(bare == b * (len(bare) // len(b)) for b in ("はい", "うん", "ええ"))
    return bool(bare) and (written in _BACKCHANNELS or bare in _BACKCHANNELS or repeated)


class TurnLike(Protocol):
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def speaker(self) -> str: ...


def _speaker_of(word: Word, turns: Sequence[TurnLike], previous: str | None) -> str | None:
    """Where speech overlaps, a word inside a short turn nested in a long one (a backchannel
    over a speech) belongs to the short turn; otherwise the turn covering most of it wins."""
    length = max(word.end - word.start, 1e-3)
    best: tuple[float, str] | None = None
    nested: tuple[float, str] | None = None
    for turn in turns:
        overlap = min(word.end, turn.end) - max(word.start, turn.start)
        if overlap <= 0:
            continue
        if best is None or overlap > best[0] + 1e-6:  # equivalent mutants (1): >= differs at exactly 1 µs more
            best = (overlap, turn.speaker)
        if overlap >= 0.8 * length and (nested is None or turn.end - turn.start < nested[0]):
            nested = (turn.end - turn.start, turn.speaker)
    if nested is not None:
        return nested[1]
    if best is not None:
        return best[1]
    if previous is not None:
        return previous
    # Before any turn: the nearest one.
    # equivalent mutants (1): without default=: turns is never empty here (assign_speakers returns first)
    nearest = min(turns, key=lambda t: min(abs(t.start - word.end), abs(word.start - t.end)), default=None)
    return nearest.speaker if nearest is not None else None  # equivalent mutants (1): as above, never None


def assign_speakers(segments: list[Segment], turns: Sequence[TurnLike], pull_in: bool = True) -> list[Segment]:
    """Segments rebuilt from their words with speakers from ``turns`` (sorted by start); ``pull_in``:
    see :func:`fit_to_turns` (without it, utterances are only stretched to their turns)."""
    if not turns:
        return segments
    ordered = sorted(turns, key=lambda t: t.start)
    wordlists = [s.words or [Word(start=s.start, end=s.end, text=s.text)] for s in segments]
    # Speakers word by word, over the whole recording (a stray word can sit at a segment's edge).
    labels: list[list[str]] = []
    previous: str | None = None
    for segment, words in zip(segments, wordlists, strict=True):  # equivalent mutants (3): same lengths
        own: list[str] = []
        for word in words:
            speaker = _speaker_of(word, ordered, previous) or segment.speaker
            own.append(speaker)
            previous = speaker
        labels.append(own)
    _absorb_fragments(wordlists, labels, ordered)
    for words, own in zip(wordlists, labels, strict=True):  # equivalent mutants (3): same lengths
        _keep_words_whole(words, own, ordered)
    rebuilt: list[Segment] = []
    for segment, words, own in zip(segments, wordlists, labels, strict=True):  # equivalent mutants (3): same lengths
        runs: list[tuple[str, list[Word]]] = []
        for word, speaker in zip(words, own, strict=True):  # equivalent mutants (3): same lengths
            if runs and runs[-1][0] == speaker:
                runs[-1][1].append(word)
            else:
                runs.append((speaker, [word]))
        for speaker, run in runs:
            for group in split_utterances(run):
                text = words_to_text(group)
                if text:
                    rebuilt.append(
                        Segment(
                            start=group[0].start,
                            end=max(group[0].start, group[-1].end),
                            speaker=speaker,
                            text=text,
                            words=group if segment.words else [],
                        )
                    )
    return fit_to_turns(rebuilt, ordered, pull_in=pull_in)


def _bare(text: str) -> str:
    return "".join(c for c in text if c not in _NOT_TEXT and not c.isspace())


def _cover(start: float, end: float, speaker: str, turns: Sequence[TurnLike]) -> float:
    """Seconds of ``start``–``end`` inside ``speaker``'s turns (turns of one speaker do not overlap)."""
    return sum(
        max(0.0, min(end, t.end) - max(start, t.start))
        for t in turns
        if t.speaker == speaker and t.start < end and start < t.end  # equivalent mutants (2): touching adds 0 s
    )


def _absorb_fragments(wordlists: list[list[Word]], labels: list[list[str]], turns: Sequence[TurnLike]) -> None:
    """A run of at most ``FRAGMENT_CHARS`` characters between two runs of one other speaker goes
    to that speaker when the diarizer is not sure of it: the run's own turns are short
    (``UNSURE_TURN`` s or less) and its words lie inside the surrounding speaker's turn. That is a
    backchannel the recogniser did not write, whose turn caught a piece of the speaker's word
    (商|品, 実行|費, 12|億|4千万円). A backchannel the recogniser did write (はい) stays its own.
    Punctuation alone (、) between two runs of one speaker always goes to that speaker."""
    flat = [(i, j) for i, words in enumerate(wordlists) for j in range(len(words))]
    runs: list[list[tuple[int, int]]] = []
    for index in flat:
        if runs and labels[runs[-1][-1][0]][runs[-1][-1][1]] == labels[index[0]][index[1]]:
            runs[-1].append(index)
        else:
            runs.append([index])
    for before, run, after in zip(runs, runs[1:], runs[2:], strict=False):  # equivalent mutants (2): strict=None
        around = labels[before[-1][0]][before[-1][1]]
        if labels[after[0][0]][after[0][1]] != around:
            continue
        words = [wordlists[i][j] for i, j in run]
        text = "".join(w.text for w in words)
        if not _bare(text):  # punctuation alone carries no voice: it stays in the speech around it
            for i, j in run:
                labels[i][j] = around
            continue
        if len(_bare(text)) > FRAGMENT_CHARS or is_backchannel(text):
            continue
        start, end = words[0].start, max(words[-1].end, words[0].start)
        mine = labels[run[0][0]][run[0][1]]
        own = [t for t in turns if t.speaker == mine and t.start < end and start < t.end]
        if any(t.end - t.start > UNSURE_TURN for t in own):
            continue
        if _cover(start, end, around, turns) < 0.5 * max(end - start, 1e-3):
            continue
        for i, j in run:
            labels[i][j] = around


def _morpheme_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the long-unit morphemes (SudachiPy mode C) of ``text``; none when the
    analyser is not installed."""
    try:
        from dictionaries.reading import sudachi_tokenizer
    except ImportError:  # pragma: no cover - SudachiPy is a dependency
        return []
    return [(m.begin(), m.end()) for m in sudachi_tokenizer("C").tokenize(text)]


def _keep_words_whole(words: list[Word], labels: list[str], turns: Sequence[TurnLike]) -> None:
    """A speaker change never falls inside a word: where one cuts a morpheme of the segment's
    text, the whole morpheme (and every recogniser token touching it) goes to the speaker whose
    turns cover more of its time; on a tie, to the speaker before it."""
    if len(set(labels)) < 2:
        return
    text = "".join(w.text for w in words)
    offsets = [0]
    for word in words:
        offsets.append(offsets[-1] + len(word.text))
    spans = _morpheme_spans(text)
    for _ in range(3):  # a token reaching into the next morpheme can make one more cut; rarely twice
        moved = False  # equivalent mutants (2): None is false too; True only adds passes that move nothing
        for begin, end in spans:
            inside = [k for k in range(len(words)) if offsets[k] < end and begin < offsets[k + 1]]
            speakers = {labels[k] for k in inside}
            if len(speakers) < 2:
                continue
            # equivalent mutants (1): max(…, words[inside[1]].start): words are in time order
            start, stop = words[inside[0]].start, max(words[inside[-1]].end, words[inside[0]].start)
            first = labels[inside[0]]  # equivalent mutants (1): None: max keeps the first label on a tie anyway
            winner = max(
                dict.fromkeys(labels[k] for k in inside),
                key=lambda s: (round(_cover(start, stop, s, turns), 3), s == first),
            )
            for k in inside:
                labels[k] = winner
            moved = True
        if not moved:
            return


def fit_to_turns(
    segments: list[Segment], turns: Sequence[TurnLike], reach: float = 1.0, pull_in: bool = True
) -> list[Segment]:
    """Make each utterance's start and end those of its speaker's turn, within ``reach`` seconds.

    The diarizer's turns follow the voice itself; recognised word timings do not: the last word
    often ends early, and the first word of a recogniser segment often starts where the previous
    segment ended, before the speaker began. So an utterance is stretched to its speaker's turn,
    and also pulled in to it (never past its first word's end or its last word's start; the edge
    words' timings are clipped to the utterance). An utterance never reaches into the next or the
    previous utterance of the same speaker, nor outside the turns its words lie in; it may overlap
    another speaker's utterance where both turns do (a backchannel over a speech). Without
    ``pull_in`` utterances are only stretched, never shrunk (the pipeline's dictionary stages work on
    those, and the edges are pulled in after them).
    """
    if not turns or not segments:  # equivalent mutants (1): without turns, the loop keeps every segment
        return segments
    ordered = sorted(segments, key=lambda s: s.start)
    fitted: list[Segment] = []
    last_end: dict[str, float] = {}
    next_start: list[float] = [float("inf")] * len(ordered)  # equivalent mutants (1): float("INF") is inf
    upcoming: dict[str, float] = {}
    for index in range(len(ordered) - 1, -1, -1):
        # equivalent mutants (1): float("INF") is inf
        next_start[index] = upcoming.get(ordered[index].speaker, float("inf"))
        upcoming[ordered[index].speaker] = ordered[index].start
    for index, segment in enumerate(ordered):
        own = [t for t in turns if t.speaker == segment.speaker and t.start < segment.end and segment.start < t.end]
        if not own:
            fitted.append(segment)
            last_end[segment.speaker] = max(last_end.get(segment.speaker, 0.0), segment.end)
            continue
        floor = last_end.get(segment.speaker, 0.0)
        start = max(min(t.start for t in own), segment.start - reach, floor)
        end = min(max(t.end for t in own), segment.end + reach, next_start[index])
        words = segment.words
        if words and pull_in:  # pulled in no further than the words allow
            start = min(start, words[0].end, segment.end)  # equivalent mutants (1): the first word ends by then
            end = max(end, words[-1].start, start)  # equivalent mutants (1): end < start resets like end == start
        else:
            start, end = min(start, segment.start), max(end, segment.end)
        if end <= start:
            start, end = min(start, segment.start), max(end, segment.end)
        start, end = round(start, 3), round(end, 3)
        clipped = [
            w
            if start <= w.start and w.end <= end  # equivalent mutants (3): clipping a word inside keeps it
            else w.model_copy(update={"start": min(max(w.start, start), end), "end": max(min(w.end, end), start)})
            for w in words
        ]
        fitted.append(segment.model_copy(update={"start": start, "end": end, "words": clipped}))
        last_end[segment.speaker] = end
    return fitted


def speakers_in_order(segments: list[Segment]) -> list[Speaker]:
    seen: dict[str, None] = {}
    for segment in sorted(segments, key=lambda s: s.start):
        seen.setdefault(segment.speaker, None)  # equivalent mutants (1): None is setdefault's default
    return [Speaker(id=speaker) for speaker in seen]
