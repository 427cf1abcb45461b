"""The service's tables (SQLModel). Times are aware UTC; months and fiscal years are Asia/Tokyo.

The transcript itself keeps its one definition in ``transcriber.transcript.Transcript``; here it is
stored as that model's JSON.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

# Roles and kinds are shared with the light install (the meeting-room agent has no SQLModel).
from service.vocabulary import KIND_LABELS as KIND_LABELS
from service.vocabulary import Kind as Kind
from service.vocabulary import Role as Role


def utcnow() -> datetime:
    return datetime.now(UTC)


class Source(StrEnum):
    web = "web"
    device = "device"
    api = "api"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


FINISHED = {JobStatus.succeeded, JobStatus.failed, JobStatus.canceled}


class JobKind(StrEnum):
    transcribe = "transcribe"
    relabel = "relabel"  # speakers only, on the stored transcript: no recognition, no usage


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    monthly_cap_hours: float | None = None  # optional; managers are alerted at 80 % and 100 %
    # Retired: kept for its users, recordings and usage, but offered for no new user or device (0008).
    retired_at: datetime | None = None


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(default=Role.clerk, max_length=20)
    department_id: int = Field(foreign_key="department.id", index=True)
    password_hash: str = ""
    email: str = Field(default="", max_length=300)  # usage alerts for managers, where SMTP is set up
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    label: str = Field(default="", max_length=200)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked: bool = False
    expires_at: datetime | None = None  # refused after this (0008); None: tokens issued before expiry existed


class LoginSession(SQLModel, table=True):
    # The cookie carries a random token; only its SHA-256 is stored.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class LoginFailure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, max_length=100)
    ip: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)


class Device(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    department_id: int = Field(foreign_key="department.id", index=True)
    key_hash: str = Field(index=True, unique=True, max_length=64)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None  # any request with the device's key
    # The watching agent's heartbeat (``kiroku device watch``; migration 0011). A device that has sent
    # one is expected to keep sending: silent for a day, admins are alerted (``service.device_health``).
    heartbeat_at: datetime | None = None
    agent_version: str | None = Field(default=None, max_length=50)
    queue_length: int | None = None  # recordings waiting on the device to be sent
    free_disk_bytes: int | None = Field(default=None, sa_type=BigInteger)
    silence_alerted_at: datetime | None = None  # the alert for the current silence; cleared by a heartbeat


class Recording(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("device_id", "device_recording_id", name="uq_recording_device_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    source: str = Field(default=Source.web, max_length=10)
    kind: str = Field(default=Kind.meeting, max_length=20)
    title: str = Field(default="", max_length=300)
    held_at: datetime | None = None
    place: str = Field(default="", max_length=300)
    attendees: str = Field(default="", max_length=2000)
    # The kind's other header fields entered at upload (受付者, 相手方, 用件 …: service.records.fields).
    fields: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    expected_speakers: int | None = None
    dictionary_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    original_filename: str = Field(default="", max_length=300)
    audio_path: str | None = Field(default=None, max_length=1000)
    audio_bytes: int = Field(default=0, sa_type=BigInteger)  # 64-bit: recordings may pass 2 GiB
    duration_seconds: float = 0.0
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")
    device_id: int | None = Field(default=None, foreign_key="device.id")
    device_recording_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    audio_deleted_at: datetime | None = None
    # Deleted on request: audio, transcript and minutes are gone; the row stays for the usage ledger.
    deleted_at: datetime | None = None
    # Quality: characters of the machine transcript, and how many the clerks changed in the minutes.
    machine_chars: int | None = None
    edited_chars: int | None = None


class Job(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id", index=True)
    kind: str = Field(default=JobKind.transcribe, max_length=20)
    # A relabel's speaker count: min == max for an exact count; either may be open (None).
    min_speakers: int | None = None
    max_speakers: int | None = None
    status: str = Field(default=JobStatus.queued, max_length=20, index=True)
    stage: str = Field(default="", max_length=20)
    progress: float = 0.0
    attempts: int = 0
    max_attempts: int = 3
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    worker: str = Field(default="", max_length=200)
    heartbeat_at: datetime | None = None
    cancel_requested: bool = False
    queued_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TranscriptRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id", unique=True, index=True)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    model: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)


class MinutesRevision(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("recording_id", "number", name="uq_minutes_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id", index=True)
    number: int
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    author_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Dictionary(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)  # None: city-wide
    created_at: datetime = Field(default_factory=utcnow)


class DictionaryTerm(SQLModel, table=True):
    """A stored ``dictionaries.terms.Term``; read and written through ``service.dictionaries`` only."""

    id: int | None = Field(default=None, primary_key=True)
    dictionary_id: int = Field(foreign_key="dictionary.id", index=True)
    surface: str = Field(max_length=200)
    reading: str = Field(default="", max_length=400)
    # The known wrong forms, a JSON list (migration 0006); their size is checked in service.dictionaries.
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    category: str = Field(default="", max_length=100)


class UploadSession(SQLModel, table=True):
    """A resumable (tus) upload; its bytes grow in a file under the storage directory."""

    id: str = Field(primary_key=True, max_length=64)
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    department_id: int = Field(foreign_key="department.id")
    length: int = Field(sa_type=BigInteger)  # bytes; 64-bit, as the upload limit may pass 2 GiB
    offset: int = Field(default=0, sa_type=BigInteger)
    meta: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    device_recording_id: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    recording_id: int | None = Field(default=None, foreign_key="recording.id")


class UsageRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id", unique=True)  # a re-run never counts twice
    department_id: int = Field(foreign_key="department.id", index=True)
    source: str = Field(max_length=10)
    kind: str = Field(max_length=20)
    model: str = Field(default="", max_length=300)
    audio_seconds: float
    processing_seconds: float
    recorded_at: datetime = Field(default_factory=utcnow)
    month: str = Field(max_length=7, index=True)  # YYYY-MM in Asia/Tokyo
    day: date | None = Field(default=None, index=True)  # the date in Asia/Tokyo
    fiscal_year: int = Field(index=True)  # April–March, Asia/Tokyo


class UsageAlert(SQLModel, table=True):
    """A department passed 80 % or 100 % of its monthly cap: shown once per month and level."""

    __table_args__ = (UniqueConstraint("department_id", "month", "level", name="uq_usage_alert"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    month: str = Field(max_length=7)
    level: int  # 80 or 100
    created_at: datetime = Field(default_factory=utcnow)
    emailed_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    device_id: int | None = Field(default=None, foreign_key="device.id")
    action: str = Field(max_length=50, index=True)
    recording_id: int | None = Field(default=None, index=True)
    detail: str = Field(default="", max_length=2000)
    ip: str = Field(default="", max_length=64)


# --- issue 8: publication copies, dictionary feedback, full-text search ----------------------------


class PublicationCopy(SQLModel, table=True):
    """公開用: the masking of one recording's minutes (``service.masking``); the minutes stay unchanged.

    ``body`` holds the spans (automatic candidates and manual additions, each proposed, confirmed
    or rejected); ``revision`` is the ETag, as for the minutes.
    """

    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id", unique=True, index=True)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    revision: int = 1
    minutes_revision: int = 0  # the minutes' revision the candidates were found in
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TermProposal(SQLModel, table=True):
    """辞書に追加: a clerk's correction proposed as a term of the department's dictionary."""

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    recording_id: int | None = Field(default=None, foreign_key="recording.id", index=True)
    term: str = Field(max_length=200)
    reading: str = Field(default="", max_length=400)
    alias: str = Field(default="", max_length=200)  # what the recogniser wrote
    category: str = Field(default="", max_length=100)
    segment: int | None = None
    start: int | None = None
    end: int | None = None
    status: str = Field(default="proposed", max_length=20, index=True)  # proposed | accepted | rejected
    proposed_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    dictionary_id: int | None = Field(default=None, foreign_key="dictionary.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class SearchDocument(SQLModel, table=True):
    """One recording in the full-text index (``service.search``): what was indexed, its normalised text
    and its bigrams.

    ``norm`` holds the normalised text of the recording's rows (``SearchSegment``, in ``ordinal``
    order: the header fields first, then the utterances), one per line. ``grams`` (PostgreSQL: a
    text[] with a GIN index) lists the recording's distinct character bigrams; SQLite keeps them in
    the FTS5 table ``searchfts`` instead and leaves this empty.
    """

    recording_id: int = Field(foreign_key="recording.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    source: str = Field(default="transcript", max_length=20)  # transcript | minutes
    revision: int = 0
    chars: int = 0  # normalised characters, for length normalisation of the ranking
    header_rows: int = 0  # the first lines of ``norm`` are header fields
    norm: str = Field(default="", sa_column=Column(Text, nullable=False))
    grams: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON().with_variant(ARRAY(Text()), "postgresql"), nullable=False),
    )
    indexed_at: datetime = Field(default_factory=utcnow)


class SearchSegment(SQLModel, table=True):
    """One utterance (or a header field: segment -1) of an indexed recording, as shown."""

    __table_args__ = (Index("ix_searchsegment_recording_ordinal", "recording_id", "ordinal"),)

    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id")
    ordinal: int  # its line in ``SearchDocument.norm``
    segment: int  # the utterance's index in the minutes; -1 for a header field
    field: str = Field(default="", max_length=50)  # the header field of segment -1
    start: float = 0.0
    speaker: str = Field(default="", max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))


# --- issue 22: Word templates of records ------------------------------------------------------------


class RecordTemplate(SQLModel, table=True):
    """An administrator's Word template for one kind of record, for one department or (None) the city.

    The file lives under the storage directory (``path``); ``active`` marks the one exports use
    (at most one per kind and department: ``service.records.templates``).
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    name: str = Field(max_length=300)  # the uploaded file's name, as shown
    path: str = Field(max_length=1000)  # relative to the storage directory
    size_bytes: int = 0
    active: bool = False
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


# --- issue 26: known speakers named by voice -----------------------------------------------------


class VoiceProfile(SQLModel, table=True):
    """A staff member's voice, known to one department, enrolled with their consent (biometric data:
    deleted with its embeddings at once, ``service.voices``)."""

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    name: str = Field(max_length=200)
    title: str = Field(default="", max_length=200)
    consent: str = Field(sa_column=Column(Text, nullable=False))  # the person's agreement, as recorded
    enrolled_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class VoiceEmbedding(SQLModel, table=True):
    """One speaker embedding of a profile (a list of floats, never audio)."""

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="voiceprofile.id", index=True)
    vector: list[float] = Field(sa_column=Column(JSON, nullable=False))
    encoder: str = Field(max_length=50)
    recording_id: int | None = None  # where it was taken from (no key: the recording may be deleted)
    created_at: datetime = Field(default_factory=utcnow)
