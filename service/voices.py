"""A department's known voices (issue 26): enrolment with consent, naming, deletion.

Who may do what (docs/voices.md):
- list: every member of the department (admins: every department), as dictionaries;
- enrol: clerks and managers of the recording's department, from a finished recording's speaker,
  with the person's consent recorded; never a phone recording's outside party (in a phone
  recording the staff side is S1, the first voice: the clerk answers or places the call; every
  other speaker is the citizen or another outside party, who is never enrolled);
- delete: managers of the department and admins; the profile and all its embeddings go in one
  transaction, audited.

Embeddings are lists of floats from the speaker encoder; the audio is never copied.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, col, delete, select

from service.access import Caller, audit, valid_id
from service.errors import ServiceError, forbidden, not_found
from service.models import Kind, Recording, Role, TranscriptRecord, VoiceEmbedding, VoiceProfile
from transcriber import voices as core
from transcriber.transcript import Transcript

log = logging.getLogger(__name__)

STAFF_SPEAKER = "S1"  # the clerk's side of a phone recording
MAX_NAME = 200

# The speaker encoder, loaded once per process (the API's enrolment and the worker's naming).
_encoder: core.VoiceEncoder | None = None


def encoder() -> core.VoiceEncoder:
    global _encoder
    if _encoder is None:
        _encoder = core.VoiceEncoder.load()
    return _encoder


def _decode(path: Path) -> np.ndarray:
    from transcriber.audio import decode

    return decode(path)


def may_manage(caller: Caller, profile: VoiceProfile) -> bool:
    return caller.role == Role.admin or (
        caller.role == Role.manager and profile.department_id == caller.user.department_id
    )


def outside_party(recording: Recording, speaker: str) -> bool:
    """Whether ``speaker`` is the outside party of a phone recording (never enrolled)."""
    return recording.kind == Kind.phone and speaker != STAFF_SPEAKER


def department_profiles(db: Session, caller: Caller) -> list[tuple[VoiceProfile, int]]:
    """Profiles the caller sees, each with its number of embeddings."""
    query = select(VoiceProfile)
    if caller.role != Role.admin:
        query = query.where(VoiceProfile.department_id == caller.user.department_id)
    profiles = sorted(db.exec(query).all(), key=lambda p: (p.department_id, p.name))
    counts: dict[int, int] = {}
    for profile_id in db.exec(select(VoiceEmbedding.profile_id)).all():
        counts[profile_id] = counts.get(profile_id, 0) + 1
    return [(p, counts.get(p.id or 0, 0)) for p in profiles]


def _stored_transcript(db: Session, recording: Recording) -> TranscriptRecord:
    stored = db.exec(select(TranscriptRecord).where(TranscriptRecord.recording_id == recording.id)).first()
    if stored is None:
        raise ServiceError(409, "not_ready", "文字起こしが終わっていません。")
    return stored


def _audio(storage: Path, recording: Recording) -> Path:
    if recording.audio_path is None:
        raise ServiceError(410, "audio_deleted", "保存期間を過ぎたため音声は削除されています。")
    return storage / recording.audio_path


def enrol(
    db: Session,
    caller: Caller,
    recording: Recording,
    storage: Path,
    *,
    speaker: str,
    name: str,
    title: str,
    consent: str,
    ip: str,
) -> tuple[VoiceProfile, int]:
    """Add the voice of ``speaker`` in ``recording`` to the department's profile ``name`` (created if
    new). Returns the profile and how many embeddings were added."""
    if caller.role == Role.admin and caller.user.department_id != recording.department_id:
        raise forbidden()  # admins run the registry; enrolment is the department's own act
    name, title, consent = name.strip(), title.strip(), consent.strip()
    if not name or not consent:
        raise ServiceError(422, "consent_required", "名前と本人の同意の記録が必要です。")
    if outside_party(recording, speaker):
        raise ServiceError(
            422, "outside_party", "電話の相手方 (市民など) の声は登録できません。登録できるのは職員 (S1) だけです。"
        )
    transcript = Transcript.model_validate(_stored_transcript(db, recording).body)
    audio = _audio(storage, recording)
    try:
        vectors = core.enrolment_embeddings(encoder(), _decode(audio), transcript, speaker)
    except core.VoiceError as error:
        raise ServiceError(422, "not_enough_speech", str(error)) from None
    if not vectors:
        raise ServiceError(422, "not_enough_speech", "この話者の声を取り出せませんでした。")
    profile = db.exec(
        select(VoiceProfile).where(VoiceProfile.department_id == recording.department_id, VoiceProfile.name == name)
    ).first()
    if profile is None:
        profile = VoiceProfile(
            department_id=recording.department_id,
            name=name,
            title=title,
            consent=consent,
            enrolled_by_id=caller.user_id,
        )
    else:
        profile.consent = consent
        profile.title = title or profile.title
    db.add(profile)
    db.flush()
    assert profile.id is not None
    for vector in vectors:
        db.add(
            VoiceEmbedding(profile_id=profile.id, vector=vector, encoder=core.ENCODER_NAME, recording_id=recording.id)
        )
    audit(
        db,
        "voice.enrol",
        caller=caller,
        recording_id=recording.id,
        detail=f"profile {profile.id} speaker {speaker} embeddings {len(vectors)}",
        ip=ip,
        commit=False,
    )
    db.commit()
    db.refresh(profile)
    return profile, len(vectors)


def delete_profile(db: Session, caller: Caller, profile_id: int, *, ip: str) -> None:
    profile = db.get(VoiceProfile, profile_id) if valid_id(profile_id) else None
    if profile is None or (caller.role != Role.admin and profile.department_id != caller.user.department_id):
        raise not_found()
    if not may_manage(caller, profile):
        raise forbidden()
    db.exec(delete(VoiceEmbedding).where(col(VoiceEmbedding.profile_id) == profile_id))
    db.delete(profile)
    audit(db, "voice.delete", caller=caller, detail=f"profile {profile_id}", ip=ip, commit=False)
    db.commit()


def _profiles_for(db: Session, department_id: int) -> list[core.Profile]:
    rows = db.exec(
        select(VoiceProfile, VoiceEmbedding)
        .join(VoiceEmbedding, col(VoiceEmbedding.profile_id) == col(VoiceProfile.id))
        .where(VoiceProfile.department_id == department_id, VoiceEmbedding.encoder == core.ENCODER_NAME)
    ).all()
    profiles: dict[int, core.Profile] = {}
    for profile, embedding in rows:
        assert profile.id is not None
        entry = profiles.setdefault(
            profile.id, core.Profile(id=str(profile.id), name=profile.name, embeddings=[], consent=profile.consent)
        )
        entry.embeddings.append([float(x) for x in embedding.vector])
    return list(profiles.values())


def name_by_voice(db: Session, department_id: int, transcript: Transcript, audio: Path) -> Transcript:
    """``transcript`` with the department's known voices named (marked 声で推定)."""
    profiles = _profiles_for(db, department_id)
    if not profiles:
        return core.apply_names(transcript, {}, [])  # earlier estimates go with their profiles
    found = core.speaker_embeddings(encoder(), _decode(audio), transcript)
    chosen = core.match(found, [p.centroid() for p in profiles])
    return core.apply_names(transcript, chosen, profiles)


def name_recording(db: Session, caller: Caller, recording: Recording, storage: Path, *, ip: str) -> dict[str, Any]:
    """Run naming on the stored machine transcript (no transcription); returns the new body."""
    stored = _stored_transcript(db, recording)
    named = name_by_voice(
        db, recording.department_id, Transcript.model_validate(stored.body), _audio(storage, recording)
    )
    stored.body = named.to_json_dict()
    db.add(stored)
    estimated = sum(1 for s in named.speakers if s.voice_estimated)
    audit(db, "recording.voice_name", caller=caller, recording_id=recording.id, detail=f"named {estimated}", ip=ip)
    return stored.body
