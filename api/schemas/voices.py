"""Answers of the voice-registry routes (``api.routes.voices``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.models import VoiceProfile


class VoiceProfileOut(BaseModel):
    id: int
    department_id: int
    name: str
    title: str
    consent: str  # the consent record, as entered at enrolment
    enrolled_by_id: int | None
    created_at: datetime
    embeddings: int  # how many voice samples (vectors) the profile holds
    may_delete: bool

    @classmethod
    def of(cls, profile: VoiceProfile, embeddings: int, may_delete: bool) -> VoiceProfileOut:
        return cls.model_validate({**profile.model_dump(), "embeddings": embeddings, "may_delete": may_delete})


class VoiceProfileList(BaseModel):
    items: list[VoiceProfileOut]


class EnrolOut(BaseModel):
    profile: VoiceProfileOut
    added: int  # embeddings taken from this recording


class NamedTranscriptOut(BaseModel):
    transcript: dict[str, Any]  # kiroku.transcript/1 with speakers[].voice_estimated where a voice matched
    estimated: int  # speakers named by voice
