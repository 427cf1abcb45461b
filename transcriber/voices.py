"""Known speakers named by their voice: enrolment embeddings, the registry file, and matching.

A profile holds a person's name, the consent record and a few speaker embeddings (256-d vectors
from the diarizer's own speaker encoder), never audio. Naming compares each diarized speaker of a
transcript with every profile; only a clear match names a speaker, because a wrong name in the
minutes is worse than 発言者A: the threshold was calibrated on the dev set for near-zero false
naming (bench/voices_eval.py, docs/voices.md), and each profile names at most one speaker of a
recording.

Torch is needed only to *compute* embeddings (``VoiceEncoder``); matching and the registry work on
plain lists of floats, so the service can store and compare vectors without loading a model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from transcriber.transcript import Speaker, Transcript

if TYPE_CHECKING:
    from transcriber.settings import EngineSettings

REGISTRY_SCHEMA = "kiroku.voices/1"
ENCODER_NAME = "resemblyzer-256"  # embeddings of another encoder are never compared with these
SAMPLE_RATE = 16000
MIN_ENROL_SECONDS = 20.0  # clean (solo) speech needed to enrol a voice
MIN_MATCH_SECONDS = 3.0  # a speaker with less solo speech is never named: too little to be sure
CHUNK_SECONDS = 10.0  # one stored embedding per this much clean speech
# Raw cosine between a speaker's embedding and a profile's centroid. Calibrated on the dev set by
# bench/voices_eval.py (docs/voices.md): one voice across recordings scored 0.97-0.99 in the same
# channel, two different people at most 0.89, so naming below this would risk a wrong name.
MATCH_THRESHOLD = 0.90
MATCH_MARGIN = 0.03  # the best profile must beat the second best (and a rival speaker) by this much


class VoiceError(ValueError):
    """Enrolment or naming refused; the message is Japanese, for the clerk."""


Span = tuple[float, float]


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    result: list[Span] = []
    for start, end in spans:
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def clean_speech(transcript: Transcript, speaker: str) -> list[Span]:
    """Where ``speaker`` speaks alone: its diarizer turns (else its utterances) minus anyone else's."""
    pieces: list[tuple[float, float, str]]
    if transcript.turns:
        pieces = [(t.start, t.end, t.speaker) for t in transcript.turns]
    else:
        pieces = [(s.start, s.end, s.speaker) for s in transcript.segments]
    own = _merge((a, b) for a, b, who in pieces if who == speaker)
    others = _merge((a, b) for a, b, who in pieces if who != speaker)
    return _subtract(own, others)


def seconds(spans: Sequence[Span]) -> float:
    return sum(end - start for start, end in spans)


class VoiceEncoder:
    """The diarizer's speaker encoder (resemblyzer, on CPU), applied to chosen stretches of audio."""

    def __init__(self, weights: str | Path) -> None:
        from transcriber.diarization.encoder import SpeakerEncoder

        self._encoder = SpeakerEncoder(weights, device="cpu")

    @classmethod
    def load(cls, settings: EngineSettings | None = None) -> VoiceEncoder:
        from transcriber.diarization import weights

        if not weights.is_installed(settings=settings):
            weights.install(settings=settings)
        return cls(weights.weight_path(weights.ENCODER, settings))

    def embed(self, audio: np.ndarray, spans: Sequence[Span], chunk_seconds: float | None = None) -> list[list[float]]:
        """Embeddings of the speech in ``spans`` of ``audio`` (16 kHz mono float32).

        One embedding over everything, or (``chunk_seconds``) one per that much speech, so a
        profile keeps several samples of the voice. Each is the normalised mean of the encoder's
        1.6 s partials, as the diarizer embeds a speaker.
        """
        import torch

        from transcriber.diarization.encoder import HOP, PARTIAL_FRAMES, level_gain

        rate = SAMPLE_RATE // HOP
        frames: list[np.ndarray] = []
        samples = [audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in spans]
        speech = np.concatenate(samples) if samples else np.zeros(0, dtype=np.float32)
        if speech.size < SAMPLE_RATE:
            return []
        mel = self._encoder.mel_frames(np.ascontiguousarray(audio, dtype=np.float32))
        gain = level_gain(speech)
        mel *= gain * gain  # power spectrogram: level scales as gain squared
        for a, b in spans:
            lo, hi = round(a * rate), min(round(b * rate), len(mel))
            if hi - lo >= rate // 2:  # shorter pieces are mostly edges
                frames.append(mel[lo:hi].numpy())
        if not frames:
            return []
        allframes = np.concatenate(frames)
        per_chunk = round((chunk_seconds or 1e9) * rate)
        result: list[list[float]] = []
        for first in range(0, len(allframes), per_chunk):
            chunk = allframes[first : first + per_chunk]
            if result and len(chunk) < per_chunk // 2:
                break  # a short tail would be a noisy sample; the earlier chunks cover it
            partials = [
                torch.from_numpy(chunk[s : s + PARTIAL_FRAMES])
                for s in range(0, max(1, len(chunk) - PARTIAL_FRAMES + 1), PARTIAL_FRAMES // 2)
            ]
            vectors = self._encoder.embed_sequences(partials)
            mean = vectors.mean(axis=0)
            result.append([round(float(x), 6) for x in mean / max(float(np.linalg.norm(mean)), 1e-8)])
        return result


def similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two embeddings (raw: the encoder's outputs are all >= 0, so any two voices score
    well above 0; the threshold is set accordingly)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.dot(x, y) / max(float(np.linalg.norm(x) * np.linalg.norm(y)), 1e-12))


@dataclass
class Profile:
    name: str
    embeddings: list[list[float]]
    consent: str
    enrolled_by: str = ""
    enrolled_at: str = ""
    title: str | None = None
    id: str = ""

    def centroid(self) -> list[float]:
        mean = np.mean(np.asarray(self.embeddings, dtype=np.float64), axis=0)
        return [float(x) for x in mean / max(float(np.linalg.norm(mean)), 1e-12)]


@dataclass
class Registry:
    profiles: list[Profile] = field(default_factory=list)
    encoder: str = ENCODER_NAME

    @classmethod
    def read(cls, path: Path) -> Registry:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != REGISTRY_SCHEMA:
            raise VoiceError(f"声の登録ファイルではありません ({REGISTRY_SCHEMA} ではありません)")
        if data.get("encoder", ENCODER_NAME) != ENCODER_NAME:
            raise VoiceError(f"別の話者モデルの登録ファイルです ({data.get('encoder')})")
        profiles = [
            Profile(
                id=str(p.get("id", "")),
                name=str(p["name"]),
                title=p.get("title"),
                embeddings=[[float(x) for x in e] for e in p["embeddings"]],
                consent=str(p["consent"]),
                enrolled_by=str(p.get("enrolled_by", "")),
                enrolled_at=str(p.get("enrolled_at", "")),
            )
            for p in data.get("profiles", [])
        ]
        return cls(profiles=profiles)

    def to_json(self) -> str:
        data = {
            "schema": REGISTRY_SCHEMA,
            "encoder": self.encoder,
            "profiles": [
                {
                    "id": p.id,
                    "name": p.name,
                    "title": p.title,
                    "consent": p.consent,
                    "enrolled_by": p.enrolled_by,
                    "enrolled_at": p.enrolled_at,
                    "embeddings": p.embeddings,
                }
                for p in self.profiles
            ],
        }
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    def enrol(
        self, name: str, embeddings: list[list[float]], consent: str, enrolled_by: str = "", title: str | None = None
    ) -> Profile:
        """Add embeddings to the profile of ``name`` (created if new): more recordings, a sturdier profile."""
        if not consent.strip():
            raise VoiceError("本人の同意の記録が必要です")
        for profile in self.profiles:
            if profile.name == name:
                profile.embeddings.extend(embeddings)
                profile.consent = consent
                if title:
                    profile.title = title
                return profile
        profile = Profile(
            id=f"v{len(self.profiles) + 1}",
            name=name,
            title=title,
            embeddings=list(embeddings),
            consent=consent,
            enrolled_by=enrolled_by,
            enrolled_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.profiles.append(profile)
        return profile


def enrolment_embeddings(
    encoder: VoiceEncoder, audio: np.ndarray, transcript: Transcript, speaker: str
) -> list[list[float]]:
    """Embeddings of ``speaker``'s clean speech, or VoiceError saying why the voice cannot be enrolled."""
    if speaker not in {s.id for s in transcript.speakers} | {s.speaker for s in transcript.segments}:
        raise VoiceError(f"話者 {speaker} はこの文字起こしにいません")
    spans = clean_speech(transcript, speaker)
    have = seconds(spans)
    if have < MIN_ENROL_SECONDS:
        raise VoiceError(
            f"この話者の単独の発言が {have:.0f} 秒しかありません。声の登録には {MIN_ENROL_SECONDS:.0f} 秒以上必要です"
        )
    return encoder.embed(audio, spans, chunk_seconds=CHUNK_SECONDS)


@dataclass(frozen=True)
class Candidate:
    """One profile's score for one diarized speaker."""

    speaker: str
    profile: int  # index into the profiles given
    score: float


def speaker_embeddings(encoder: VoiceEncoder, audio: np.ndarray, transcript: Transcript) -> dict[str, list[float]]:
    """One embedding per speaker of the transcript with enough clean speech to be compared."""
    result: dict[str, list[float]] = {}
    ids = list(dict.fromkeys([s.id for s in transcript.speakers] + [s.speaker for s in transcript.segments]))
    for speaker in ids:
        spans = clean_speech(transcript, speaker)
        if seconds(spans) < MIN_MATCH_SECONDS:
            continue
        vectors = encoder.embed(audio, spans)
        if vectors:
            result[speaker] = vectors[0]
    return result


def match(
    embeddings: dict[str, list[float]],
    centroids: Sequence[Sequence[float]],
    threshold: float = MATCH_THRESHOLD,
    margin: float = MATCH_MARGIN,
) -> dict[str, Candidate]:
    """Which speaker each profile names: clear matches only, each profile and speaker used once."""
    table = {s: [similarity(e, c) for c in centroids] for s, e in embeddings.items()}
    candidates: list[Candidate] = []
    for speaker, scores in table.items():
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        if not order or scores[order[0]] < threshold:
            continue
        if len(order) > 1 and scores[order[0]] - scores[order[1]] < margin:
            continue  # two profiles almost alike for this voice: naming either could be wrong
        candidates.append(Candidate(speaker, order[0], scores[order[0]]))
    # A profile claimed by two speakers names the closer one only if it is clearly closer.
    chosen: dict[str, Candidate] = {}
    by_profile: dict[int, list[Candidate]] = {}
    for c in candidates:
        by_profile.setdefault(c.profile, []).append(c)
    for claims in by_profile.values():
        claims.sort(key=lambda c: -c.score)
        if len(claims) > 1 and claims[0].score - claims[1].score < margin:
            continue
        chosen[claims[0].speaker] = claims[0]
    return chosen


def apply_names(
    transcript: Transcript, chosen: dict[str, Candidate], profiles: Sequence[Profile], *, keep_names: bool = True
) -> Transcript:
    """``transcript`` with matched speakers named and marked 声で推定; names a clerk gave are kept."""
    speakers = {s.id: s for s in transcript.speakers}
    for segment in transcript.segments:
        speakers.setdefault(segment.speaker, Speaker(id=segment.speaker))
    updated: list[Speaker] = []
    for speaker in speakers.values():
        candidate = chosen.get(speaker.id)
        already_named = bool(speaker.name) and not speaker.voice_estimated
        if keep_names and already_named:
            updated.append(speaker)
            continue
        if candidate is None:
            # An earlier estimate no longer holds (its profile was deleted, or the voice no longer matches).
            clear = {"name": None, "voice_score": None, "voice_estimated": None} if speaker.voice_estimated else {}
            updated.append(speaker.model_copy(update=clear))
            continue
        profile = profiles[candidate.profile]
        updated.append(
            speaker.model_copy(
                update={"name": profile.name, "voice_score": round(candidate.score, 3), "voice_estimated": True}
            )
        )
    return transcript.model_copy(update={"speakers": updated})
