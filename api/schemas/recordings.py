"""Answers of the recording routes (``api.routes.recordings``): a recording with its job, the minutes
and their revisions, the machine transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, computed_field
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from service.records.speech import unnamed_labels
from transcriber.transcript import Transcript


class _DocumentedAsTranscript:
    """The OpenAPI page shows kiroku.transcript/1; the stored JSON itself is passed on untouched (not
    validated again, nor re-serialised: a 3-hour meeting's transcript is megabytes)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, _schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(Transcript.__pydantic_core_schema__)


TranscriptJSON = Annotated[dict[str, Any], _DocumentedAsTranscript]

SPEAKER_LABELS_DOC = (
    "each speaker nobody named (speaker id → label) as the record (docx, txt) names them: 発言者A, "
    "発言者B … in order of first speaking; a named speaker is called by its name"
)


class RecordingOut(BaseModel):
    """A recording and its newest job. Without a job yet, only ``status`` (null), ``stage``,
    ``progress``, ``error`` and ``attempts`` of the job's keys are present."""

    id: int
    title: str
    kind: str = Field(description="meeting | interview | negotiation | phone")
    source: str = Field(description="web | device | api")
    department_id: int
    held_at: datetime | None
    place: str
    attendees: str
    expected_speakers: int | None
    dictionary_ids: list[int]
    original_filename: str
    duration_seconds: float
    audio_available: bool  # false once the retention period removed the audio
    uploaded_by_id: int | None
    device_id: int | None
    created_at: datetime
    job_id: int | None = None
    job_kind: str | None = Field(default=None, description="transcribe | relabel")
    status: str | None = Field(
        description="queued | running | succeeded | failed | canceled; null: no job. A relabel that failed "
        "or was canceled leaves the transcript as it was: succeeded, with ``notice`` and the job's ``error``"
    )
    notice: str = Field(default="", description="a remark for the list beside the status (in Japanese)")
    stage: str
    progress: float
    error: str
    attempts: int
    cancel_requested: bool | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RecordingPage(BaseModel):
    total: int  # recordings matching the filters, over all pages
    items: list[RecordingOut]


class MinutesOut(BaseModel):
    """The minutes: the header of the record and the edited transcript."""

    # Whatever else a stored revision holds is passed on as it is.
    model_config = ConfigDict(extra="allow")

    revision: int  # 0: the machine transcript, nobody has saved yet
    header: dict[str, str]
    transcript: TranscriptJSON

    @computed_field(description=SPEAKER_LABELS_DOC)  # type: ignore[prop-decorator]
    @property
    def speaker_labels(self) -> dict[str, str]:
        return unnamed_labels(self.transcript)


class RevisionInfo(BaseModel):
    revision: int
    author_id: int | None  # null for revision 0, the machine transcript
    created_at: datetime


class RevisionOut(RevisionInfo):
    model_config = ConfigDict(extra="allow")

    header: dict[str, str]
    transcript: TranscriptJSON

    @computed_field(description=SPEAKER_LABELS_DOC)  # type: ignore[prop-decorator]
    @property
    def speaker_labels(self) -> dict[str, str]:
        return unnamed_labels(self.transcript)
