"""Giving words, not whole recogniser segments, their speakers, then cutting utterances at changes.

A Whisper segment often runs across a speaker change; assigning the whole segment to one
speaker would put the second speaker's words in the first one's mouth. Each word goes to the
speaker whose turn covers most of it (ties and gaps keep the previous word's speaker), and
utterances are rebuilt wherever the speaker changes, a pause falls or a sentence ends, and their
start and end follow the speaker's turn rather than the recogniser's tighter word timings.

Backchannels (はい、ええ) the recogniser did write become utterances of their own speaker; those
it did not write stay only in the diarization turns: minutes never get an empty utterance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from transcriber.japanese_text import words_to_text
from transcriber.transcript import Segment, Speaker, Word
from transcriber.utterances import split_utterances


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
        if best is None or overlap > best[0] + 1e-6:
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
    nearest = min(turns, key=lambda t: min(abs(t.start - word.end), abs(word.start - t.end)), default=None)
    return nearest.speaker if nearest is not None else None


def assign_speakers(segments: list[Segment], turns: Sequence[TurnLike]) -> list[Segment]:
    """Segments rebuilt from their words with speakers from ``turns`` (sorted by start)."""
    if not turns:
        return segments
    ordered = sorted(turns, key=lambda t: t.start)
    rebuilt: list[Segment] = []
    for segment in segments:
        words = segment.words or [Word(start=segment.start, end=segment.end, text=segment.text)]
        runs: list[tuple[str, list[Word]]] = []
        previous: str | None = rebuilt[-1].speaker if rebuilt else None
        for word in words:
            speaker = _speaker_of(word, ordered, previous) or segment.speaker
            if runs and runs[-1][0] == speaker:
                runs[-1][1].append(word)
            else:
                runs.append((speaker, [word]))
            previous = speaker
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
    return fit_to_turns(rebuilt, ordered)


def fit_to_turns(segments: list[Segment], turns: Sequence[TurnLike], reach: float = 1.0) -> list[Segment]:
    """Stretch each utterance's start and end to its speaker's turn, within ``reach`` seconds.

    Recognised word timings start late and end early (Whisper's timestamps hug the voiced part);
    the diarizer's turns follow the voice itself. An utterance never grows past a neighbouring
    utterance or outside the turn its words lie in; word timings are left as recognised.
    """
    if not turns or not segments:
        return segments
    ordered = sorted(segments, key=lambda s: s.start)
    fitted: list[Segment] = []
    for index, segment in enumerate(ordered):
        own = [t for t in turns if t.speaker == segment.speaker and t.start < segment.end and segment.start < t.end]
        if not own:
            fitted.append(segment)
            continue
        floor = fitted[-1].end if fitted else 0.0
        ceiling = ordered[index + 1].start if index + 1 < len(ordered) else float("inf")
        start = max(min(t.start for t in own), segment.start - reach, floor)
        end = min(max(t.end for t in own), segment.end + reach, ceiling)
        start, end = min(start, segment.start), max(end, segment.end)
        fitted.append(segment.model_copy(update={"start": round(start, 3), "end": round(end, 3)}))
    return fitted


def speakers_in_order(segments: list[Segment]) -> list[Speaker]:
    seen: dict[str, None] = {}
    for segment in sorted(segments, key=lambda s: s.start):
        seen.setdefault(segment.speaker, None)
    return [Speaker(id=speaker) for speaker in seen]
