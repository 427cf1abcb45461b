"""Re-assigning speakers of an existing transcript without recognising the speech again.

Used when the clerk knows the speaker count was wrong: the diarizer runs again on the audio
with the new hint and the transcript's words are re-assigned; the text, word timings and
dictionary corrections and hallucination flags are kept (re-pointed at the new utterances).
"""

from __future__ import annotations

from transcriber.hallucination import repoint_flags
from transcriber.speakers import assign_speakers, speakers_in_order
from transcriber.transcript import Correction, Segment, SpeakerTurn, Transcript


def _absolute(segments: list[Segment]) -> list[int]:
    """Character offset of each segment's text in the whole transcript's text."""
    offsets, total = [], 0
    for segment in segments:
        offsets.append(total)
        total += len(segment.text)
    return offsets


def _repoint(corrections: list[Correction], old: list[Segment], new: list[Segment]) -> list[Correction]:
    old_at, new_at = _absolute(old), _absolute(new)
    moved = []
    for correction in corrections:
        position = old_at[correction.segment] + correction.start
        index = max(i for i, offset in enumerate(new_at) if offset <= position)
        start = position - new_at[index]
        moved.append(
            correction.model_copy(update={"segment": index, "start": start, "end": start + len(correction.after)})
        )
    return moved


def relabel(transcript: Transcript, turns: list[SpeakerTurn]) -> Transcript:
    ordered = sorted(transcript.segments, key=lambda s: s.start)
    # Back to one speaker's runs first, so utterances can be cut anew at the new changes. The words
    # stay exactly as recognised (same words, new speakers): edges are stretched, never pulled in.
    if turns:
        segments = assign_speakers(ordered, turns, pull_in=False)
    else:
        segments = [s.model_copy(update={"speaker": "S1"}) for s in ordered]
    return transcript.model_copy(
        update={
            "segments": segments,
            "speakers": speakers_in_order(segments),
            "turns": turns,
            "corrections": _repoint(transcript.corrections, ordered, segments),
            "flags": repoint_flags(transcript.flags, segments),
        }
    )
