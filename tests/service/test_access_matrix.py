"""The access matrix: each role × each endpoint × a thing of the caller's own department or of another one.

Roles are anonymous, a clerk and a manager of 北区役所 保健福祉課, and an administrator of デジタル統括室.
"Own" is a recording (or dictionary, user, device, cap) of the caller's department, "other" one of
another department (財政局 税務部 for the clerk and the manager, 北区役所 for the admin); for an upload,
"other" names another department's dictionary, and for a listing (or a search) the outcome says
whether the thing is "listed" or "hidden". Endpoints without a department (usage, city-wide dictionaries) have one
column. Expected outcomes:
401 without a login; 404 for another department's recording or dictionary (ids cannot be probed);
403 where the role may not act at all (usage for clerks, administration for non-admins, city-wide
dictionaries for non-admins); 2xx or 409 as the thing's state allows. Every successful view, edit,
export or deletion of a recording (and every administrative or dictionary change) writes its audit
event; a refused call writes none.

One service per backend serves the whole table (a fresh world per cell would cost seconds each).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from service.accounts import add_device
from service.jobs import latest_job
from service.minutes import current_minutes
from service.models import (
    ApiToken,
    AuditEvent,
    Department,
    Dictionary,
    DictionaryTerm,
    JobStatus,
    PublicationCopy,
    Recording,
    RecordTemplate,
    TermProposal,
    TranscriptRecord,
    User,
    VoiceProfile,
    utcnow,
)
from service.records.templates import templates_dir
from service.search import index_recording
from service.settings import get_settings
from tests.conftest import SINGLE
from tests.service.conftest import PASSWORD, World

pytestmark = pytest.mark.slow

KITA, ZAISEI, DIGITAL = "北区役所 保健福祉課", "財政局 税務部", "デジタル統括室"
ROLES = ("anonymous", "clerk", "manager", "admin")
USER = {"anonymous": None, "clerk": "clerk_kita", "manager": "manager_kita", "admin": "root_admin"}
OWN = {"anonymous": KITA, "clerk": KITA, "manager": KITA, "admin": DIGITAL}
OTHER = {"anonymous": ZAISEI, "clerk": ZAISEI, "manager": ZAISEI, "admin": KITA}
UPLOADER = {KITA: "clerk_kita", ZAISEI: "clerk_zaisei", DIGITAL: "root_admin"}

# An outcome is a status code, or for listings "listed" / "hidden" (200, and the thing is or is not in it).
Outcome = int | str
Cell = tuple[Outcome, Outcome | None]  # (own department, other department); None: no department involved


class Reply(Protocol):
    """What the test client answers (its httpx flavour varies with Starlette's version)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


# fmt: off
MATRIX: dict[str, tuple[Cell, Cell, Cell, Cell]] = {
    # endpoint                  anonymous     clerk                 manager               admin
    "POST recordings":          ((401, 401), (201, 422),           (201, 422),           (201, 422)),
    "GET recordings":           ((401, 401), ("listed", "hidden"), ("listed", "hidden"), ("listed", "listed")),
    "GET recording":            ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "POST cancel (queued)":     ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "POST cancel (finished)":   ((401, 401), (409, 404),           (409, 404),           (409, 409)),
    "DELETE recording":         ((401, 401), (204, 404),           (204, 404),           (204, 204)),
    "GET transcript":           ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET transcript (queued)":  ((401, 401), (409, 404),           (409, 404),           (409, 409)),
    "GET minutes":              ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "PUT minutes":              ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "PUT minutes (stale)":      ((401, 401), (409, 404),           (409, 404),           (409, 409)),
    "POST speakers":            ((401, 401), (202, 404),           (202, 404),           (202, 202)),
    "GET minutes revisions":    ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET export txt":           ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET peaks":                ((401, 401), (204, 404),           (204, 404),           (204, 204)),
    "POST presence":            ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "DELETE presence":          ((401, 401), (204, 404),           (204, 404),           (204, 204)),
    "GET export docx":          ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET audio":                ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET usage month":          ((401, None), (403, None),         (200, None),          (200, None)),
    "GET usage fiscal year":    ((401, None), (403, None),         (200, None),          (200, None)),
    "GET usage dashboard":      ((401, None), (403, None),         (200, None),          (200, None)),
    "GET usage export CSV":     ((401, None), (403, None),         (200, None),          (200, None)),
    "PUT usage cap":            ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "GET admin departments":    ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin departments":   ((401, None), (403, None),         (403, None),          (201, None)),
    "GET admin users":          ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin users":         ((401, 401), (403, 403),           (403, 403),           (201, 201)),
    "POST admin user deactivate": ((401, 401), (403, 403),         (403, 403),           (200, 200)),
    "GET admin devices":        ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin devices":       ((401, 401), (403, 403),           (403, 403),           (201, 201)),
    "POST admin device revoke": ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "PATCH admin department":   ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin dept. retire":  ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin dept. reinstate": ((401, None), (403, None),       (403, None),          (200, None)),
    "PATCH admin user":         ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "POST admin user password": ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "POST admin user activate": ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "GET admin tokens":         ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin tokens":        ((401, 401), (403, 403),           (403, 403),           (201, 201)),
    "POST admin token revoke":  ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "GET admin retention":      ((401, None), (403, None),         (403, None),          (200, None)),
    "GET admin audit":          ((401, None), (403, None),         (403, None),          (200, None)),
    "GET admin audit export":   ((401, None), (403, None),         (403, None),          (200, None)),
    "POST own password":        ((401, None), (204, None),         (204, None),          (204, None)),
    "GET dictionaries":         ((401, 401), ("listed", "hidden"), ("listed", "hidden"), ("listed", "listed")),
    "POST dictionaries":        ((401, 401), (201, 403),           (201, 403),           (201, 201)),
    "POST dictionaries (city)": ((401, None), (403, None),         (403, None),          (201, None)),
    "GET dictionary":           ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET dictionary (city)":    ((401, None), (200, None),         (200, None),          (200, None)),
    "DELETE dictionary":        ((401, 401), (204, 404),           (204, 404),           (204, 204)),
    "DELETE dictionary (city)": ((401, None), (403, None),         (403, None),          (204, None)),
    "POST term":                ((401, 401), (201, 404),           (201, 404),           (201, 201)),
    "POST term (city)":         ((401, None), (403, None),         (403, None),          (201, None)),
    "PUT term":                 ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "PUT term (city)":          ((401, None), (403, None),         (403, None),          (200, None)),
    "DELETE term":              ((401, 401), (204, 404),           (204, 404),           (204, 204)),
    "DELETE term (city)":       ((401, None), (403, None),         (403, None),          (204, None)),
    "POST import CSV":          ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "POST import CSV (city)":   ((401, None), (403, None),         (403, None),          (200, None)),
    "GET export CSV":           ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET export CSV (city)":    ((401, None), (200, None),         (200, None),          (200, None)),
    "POST publication":         ((401, 401), (201, 404),           (201, 404),           (201, 201)),
    "POST publication (queued)": ((401, 401), (409, 404),          (409, 404),           (409, 409)),
    "GET publication":          ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "PUT publication":          ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "PUT publication (stale)":  ((401, 401), (409, 404),           (409, 404),           (409, 409)),
    "GET publication export":   ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET search":               ((401, 401), ("listed", "hidden"), ("listed", "hidden"), ("listed", "listed")),
    "POST term proposal":       ((401, 401), (201, 404),           (201, 404),           (201, 201)),
    "GET term proposals":       ((401, 401), ("listed", "hidden"), ("listed", "hidden"), ("listed", "listed")),
    "GET term proposal stats":  ((401, None), (200, None),         (200, None),          (200, None)),
    "POST accept proposal":     ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "POST accept (decided)":    ((401, 401), (409, 404),           (409, 404),           (409, 409)),
    "POST reject proposal":     ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "GET admin templates":      ((401, None), (403, None),         (403, None),          (200, None)),
    "POST admin templates":     ((401, 401), (403, 403),           (403, 403),           (201, 201)),
    "POST admin template use":  ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "POST admin template unuse": ((401, 401), (403, 403),          (403, 403),           (200, 200)),
    "GET admin template file":  ((401, 401), (403, 403),           (403, 403),           (200, 200)),
    "DELETE admin template":    ((401, 401), (403, 403),           (403, 403),           (204, 204)),
    "GET voices":               ((401, 401), ("listed", "hidden"), ("listed", "hidden"), ("listed", "listed")),
    # 422: past every access check, refused for its blank consent record (enrolment itself needs the
    # speaker encoder and 20 s of speech: tests/service/test_voices_api.py). Admins enrol in their own
    # department only.
    "POST voice enrol":         ((401, 401), (422, 404),           (422, 404),           (422, 403)),
    "POST voice names":         ((401, 401), (200, 404),           (200, 404),           (200, 200)),
    "DELETE voice":             ((401, 401), (403, 404),           (204, 404),           (204, 204)),
}
# fmt: on

# The audit event a successful call writes (None: not audited, e.g. listings and reads of dictionaries).
AUDITED: dict[str, str] = {
    "POST recordings": "recording.upload",
    "POST cancel (queued)": "recording.cancel",
    "DELETE recording": "recording.delete",
    "GET transcript": "recording.view",
    "GET minutes": "recording.view",
    "PUT minutes": "recording.edit",
    "POST speakers": "recording.relabel",
    "GET minutes revisions": "recording.view",
    "GET export txt": "recording.export",
    "GET export docx": "recording.export",
    "GET audio": "recording.view",
    "GET usage export CSV": "usage.export",
    "PUT usage cap": "admin.cap",
    "POST admin users": "admin.user_add",
    "POST admin user deactivate": "admin.user_deactivate",
    "POST admin devices": "admin.device_add",
    "POST admin device revoke": "admin.device_revoke",
    "POST admin departments": "admin.department_add",
    "PATCH admin department": "admin.department_rename",
    "POST admin dept. retire": "admin.department_retire",
    "POST admin dept. reinstate": "admin.department_reinstate",
    "PATCH admin user": "admin.user_edit",
    "POST admin user password": "admin.user_password_reset",
    "POST admin user activate": "admin.user_activate",
    "POST admin tokens": "admin.token_add",
    "POST admin token revoke": "admin.token_revoke",
    "GET admin audit export": "admin.audit_export",
    "POST own password": "auth.password_change",
    "POST dictionaries": "dictionary.create",
    "POST dictionaries (city)": "dictionary.create",
    "DELETE dictionary": "dictionary.delete",
    "DELETE dictionary (city)": "dictionary.delete",
    "POST term": "dictionary.term_add",
    "POST term (city)": "dictionary.term_add",
    "PUT term": "dictionary.term_edit",
    "PUT term (city)": "dictionary.term_edit",
    "DELETE term": "dictionary.term_delete",
    "DELETE term (city)": "dictionary.term_delete",
    "POST import CSV": "dictionary.import",
    "POST import CSV (city)": "dictionary.import",
    "POST publication": "publication.create",
    "GET publication": "recording.view",
    "PUT publication": "publication.edit",
    "GET publication export": "publication.export",
    "GET search": "search",  # the recording ids shown, never the query (it may be a name)
    "POST term proposal": "term_proposal.create",
    "POST accept proposal": "term_proposal.accept",
    "POST reject proposal": "term_proposal.reject",
    "POST admin templates": "admin.template_add",
    "POST admin template use": "admin.template_use",
    "POST admin template unuse": "admin.template_unuse",
    "DELETE admin template": "admin.template_remove",
    "POST voice names": "recording.voice_name",
    "DELETE voice": "voice.delete",
}


@pytest.fixture(scope="session")
def transcript_body(transcribe_fn: Any) -> dict[str, Any]:
    """A real transcript of the SINGLE clip, made once per session and stored for every recording."""
    from transcriber.pipeline import SpeakerHints

    transcript = transcribe_fn(SINGLE, lambda stage, fraction: None, [], SpeakerHints())
    body: dict[str, Any] = transcript.to_json_dict()
    assert "予算" in "".join(s["text"] for s in body["segments"])
    return body


def upload(client: TestClient, **fields: Any) -> Reply:
    with SINGLE.open("rb") as handle:
        data = {"kind": "meeting", "title": "定例会議", **fields}
        return client.post("/api/v1/recordings", files={"file": (SINGLE.name, handle, "audio/flac")}, data=data)


def finish(engine: Engine, recording_id: int, body: dict[str, Any]) -> None:
    """What a worker leaves behind: the stored transcript and a succeeded job."""
    with Session(engine) as db:
        db.add(TranscriptRecord(recording_id=recording_id, body=body, model=str(body.get("model", ""))))
        job = latest_job(db, recording_id)
        assert job is not None
        job.status, job.stage, job.progress, job.finished_at = JobStatus.succeeded, "done", 1.0, utcnow()
        db.add(job)
        db.commit()


@dataclass
class Stage:
    """The service, its logged-in users, and things of each department to act on."""

    world: World
    transcript: dict[str, Any]
    clients: dict[str, TestClient] = field(default_factory=dict)
    department_id: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)  # a transcribed recording per department
    queued: dict[str, int] = field(default_factory=dict)  # a recording still waiting per department
    dictionary: dict[str, int] = field(default_factory=dict)  # a dictionary per department
    published: dict[str, int] = field(default_factory=dict)  # a recording with a publication copy
    proposal: dict[str, int] = field(default_factory=dict)  # a term proposal per department
    voice: dict[str, int] = field(default_factory=dict)  # a known voice per department
    city: int = 0  # a city-wide dictionary
    searched: int = 0  # the recording the last search call looks for
    serial: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def engine(self) -> Engine:
        return self.world.engine

    def client(self, user: str | None) -> TestClient:
        key = user or ""
        if key not in self.clients:
            self.clients[key] = self.world.client(user)
        return self.clients[key]

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.serial)}"

    def upload_in(self, department: str, **fields: Any) -> dict[str, Any]:
        response = upload(self.client(UPLOADER[department]), **fields)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def transcribed_in(self, department: str, **fields: Any) -> int:
        recording_id = int(self.upload_in(department, **fields)["id"])
        finish(self.engine, recording_id, self.transcript)
        return recording_id

    def add_proposal(self, department: str, status: str = "proposed") -> int:
        """A clerk's proposal from the department's transcribed recording, as ``POST …/term-proposals`` leaves it."""
        with Session(self.engine) as db:
            proposal = TermProposal(
                department_id=self.department_id[department],
                recording_id=self.done[department],
                term=self.unique("放出"),
                reading="はなてん",
                alias=self.unique("花天"),
                status=status,
            )
            db.add(proposal)
            db.commit()
            assert proposal.id is not None
            return proposal.id

    def add_dictionary(self, department: str | None) -> int:
        with Session(self.engine) as db:
            department_id = self.department_id[department] if department else None
            dictionary = Dictionary(name=self.unique("辞書"), department_id=department_id)
            db.add(dictionary)
            db.commit()
            assert dictionary.id is not None
            return dictionary.id

    def add_term(self, dictionary_id: int) -> int:
        with Session(self.engine) as db:
            term = DictionaryTerm(dictionary_id=dictionary_id, surface=self.unique("用語"), reading="ようご")
            db.add(term)
            db.commit()
            assert term.id is not None
            return term.id

    def add_user(self, department: str) -> int:
        with Session(self.engine) as db:
            user = User(name=self.unique("temp"), department_id=self.department_id[department], password_hash="")
            db.add(user)
            db.commit()
            assert user.id is not None
            return user.id

    def add_department(self, retired: bool = False) -> int:
        with Session(self.engine) as db:
            department = Department(name=self.unique("新設課"), retired_at=utcnow() if retired else None)
            db.add(department)
            db.commit()
            assert department.id is not None
            return department.id

    def add_token(self, department: str) -> int:
        with Session(self.engine) as db:
            token = ApiToken(user_id=self.add_user(department), token_hash=self.unique("hash"))
            db.add(token)
            db.commit()
            assert token.id is not None
            return token.id

    def add_device(self, department: str) -> int:
        with Session(self.engine) as db:
            device, _key = add_device(db, self.unique("会議室"), department)
            assert device.id is not None
            return device.id

    def add_template(self, department: str) -> int:
        """A department's Word template, as an upload leaves it (the file under the storage)."""
        buffer = io.BytesIO()
        Document().save(buffer)
        storage = get_settings().resolved_storage()
        path = templates_dir(storage) / f"{self.unique('template')}.docx"
        path.write_bytes(buffer.getvalue())
        with Session(self.engine) as db:
            template = RecordTemplate(
                kind="meeting",
                department_id=self.department_id[department],
                name="会議録.docx",
                path=str(path.relative_to(storage)),
                size_bytes=len(buffer.getvalue()),
            )
            db.add(template)
            db.commit()
            assert template.id is not None
            return template.id

    def add_voice(self, department: str) -> int:
        """A known voice without embeddings: listed and deletable, and naming by voice stays cheap
        (no profile to match, so the speaker encoder is never loaded)."""
        with Session(self.engine) as db:
            department_id = self.department_id[department]
            profile = VoiceProfile(department_id=department_id, name=self.unique("区長"), consent="同意")
            db.add(profile)
            db.commit()
            assert profile.id is not None
            return profile.id

    def minutes_body(self, recording_id: int) -> tuple[int, dict[str, Any]]:
        with Session(self.engine) as db:
            recording = db.get(Recording, recording_id)
            assert recording is not None
            current = current_minutes(db, recording)
            assert current is not None
            return current


def build_stage(world: World, transcript: dict[str, Any]) -> Stage:
    stage = Stage(world, transcript)
    for user in UPLOADER.values():
        stage.client(user)
    with Session(world.engine) as db:
        stage.department_id = {d.name: d.id for d in db.exec(select(Department)).all() if d.id is not None}
    for department in (KITA, ZAISEI, DIGITAL):
        stage.done[department] = stage.transcribed_in(department)
        stage.queued[department] = int(stage.upload_in(department)["id"])
        stage.dictionary[department] = stage.add_dictionary(department)
        stage.add_term(stage.dictionary[department])
        stage.published[department] = stage.transcribed_in(department)
        made = stage.client(UPLOADER[department]).post(f"{R}/{stage.published[department]}/publication")
        assert made.status_code == 201, made.text
        stage.proposal[department] = stage.add_proposal(department)
        stage.voice[department] = stage.add_voice(department)
    stage.city = stage.add_dictionary(None)
    stage.add_term(stage.city)
    return stage


# Each endpoint's call: (stage, client, department of the thing acted on) -> (response, recording id or None).
Call = Callable[[Stage, TestClient, str], tuple[Reply, int | None]]
R = "/api/v1/recordings"
D = "/api/v1/dictionaries"


def _recording_get(suffix: str, which: str = "done", **params: str) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        recording_id = getattr(stage, which)[department]
        return client.get(f"{R}/{recording_id}{suffix}", params=params), recording_id

    return call


def _presence(method: str) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        recording_id = stage.done[department]
        if method == "POST":
            return client.post(f"{R}/{recording_id}/presence", json={"tab": "matrix-tab-1"}), recording_id
        return client.delete(f"{R}/{recording_id}/presence/matrix-tab-1"), recording_id

    return call


def _upload_with_dictionary(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    response = upload(client, dictionary=str(stage.dictionary[department]))
    return response, response.json().get("id") if response.status_code == 201 else None


def _cancel_queued(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = int(stage.upload_in(department)["id"])
    return client.post(f"{R}/{recording_id}/cancel"), recording_id


def _cancel_finished(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = stage.done[department]
    return client.post(f"{R}/{recording_id}/cancel"), recording_id


def _relabel(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = stage.transcribed_in(department)  # a fresh one: the queued relabel blocks a second
    return client.post(f"{R}/{recording_id}/speakers", json={"count": 2}), recording_id


def _delete(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = int(stage.upload_in(department)["id"])
    return client.delete(f"{R}/{recording_id}"), recording_id


def _put_minutes(stale: bool) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        recording_id = stage.done[department]
        number, body = stage.minutes_body(recording_id)
        body["header"]["agenda"] = stage.unique("議題")
        if_match = '"r999"' if stale else f'"r{number}"'
        return client.put(f"{R}/{recording_id}/minutes", json=body, headers={"If-Match": if_match}), recording_id

    return call


def _plain(method: str, path: str, json: Any = None) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        return client.request(method, path, json=json), None

    return call


def _cap(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    path = f"/api/v1/usage/caps/{stage.department_id[department]}"
    return client.put(path, json={"monthly_cap_hours": None}), None


def _new_department(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    return client.post("/api/v1/admin/departments", json={"name": stage.unique("新しい課")}), None


def _new_user(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    body = {"name": stage.unique("newuser"), "role": "clerk", "department": department, "password": "x" * 12}
    return client.post("/api/v1/admin/users", json=body), None


def _deactivate(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    return client.post(f"/api/v1/admin/users/{stage.add_user(department)}/deactivate"), None


def _new_device(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    body = {"name": stage.unique("会議室"), "department": department}
    return client.post("/api/v1/admin/devices", json=body), None


def _revoke(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    return client.post(f"/api/v1/admin/devices/{stage.add_device(department)}/revoke"), None


def _rename_department(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    path = f"/api/v1/admin/departments/{stage.add_department()}"
    return client.patch(path, json={"name": stage.unique("改名課")}), None


def _retire_department(retired: bool) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        verb = "reinstate" if retired else "retire"
        return client.post(f"/api/v1/admin/departments/{stage.add_department(retired)}/{verb}"), None

    return call


def _edit_user(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    path = f"/api/v1/admin/users/{stage.add_user(department)}"
    return client.patch(path, json={"role": "manager", "display_name": "異動後"}), None


def _user_action(verb: str) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        return client.post(f"/api/v1/admin/users/{stage.add_user(department)}/{verb}"), None

    return call


def _new_token(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    with Session(stage.engine) as db:
        owner = db.get(User, stage.add_user(department))
        assert owner is not None
    return client.post("/api/v1/admin/tokens", json={"user": owner.name, "label": "連携", "days": 30}), None


def _revoke_token(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    return client.post(f"/api/v1/admin/tokens/{stage.add_token(department)}/revoke"), None


def _own_password(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    """The same password again: the caller's other sign-ins in this table stay valid."""
    body = {"current_password": PASSWORD, "new_password": PASSWORD}
    return client.post("/api/v1/auth/password", json=body), None


def _dictionary_of(stage: Stage, department: str | None) -> int:
    return stage.dictionary[department] if department else stage.city


def _new_dictionary(city: bool) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        body: dict[str, Any] = {"name": stage.unique("新辞書")}
        if city:
            body["city_wide"] = True
        else:
            body["department_id"] = stage.department_id[department]
        return client.post(D, json=body), None

    return call


def _get_dictionary(city: bool, suffix: str = "") -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        return client.get(f"{D}/{_dictionary_of(stage, None if city else department)}{suffix}"), None

    return call


def _delete_dictionary(city: bool) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        return client.delete(f"{D}/{stage.add_dictionary(None if city else department)}"), None

    return call


def _add_term(city: bool) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        body = {"term": stage.unique("杭全"), "reading": "くまた", "aliases": ["熊田"], "category": "地名"}
        return client.post(f"{D}/{_dictionary_of(stage, None if city else department)}/terms", json=body), None

    return call


def _edit_term(city: bool, delete: bool = False) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        dictionary_id = _dictionary_of(stage, None if city else department)
        path = f"{D}/{dictionary_id}/terms/{stage.add_term(dictionary_id)}"
        if delete:
            return client.delete(path), None
        return client.put(path, json={"term": stage.unique("放出"), "reading": "はなてん"}), None

    return call


def _import(city: bool) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        data = f"term,reading,aliases,category\n{stage.unique('天下茶屋')},てんがちゃや,,地名\n".encode()
        path = f"{D}/{_dictionary_of(stage, None if city else department)}/import"
        return client.post(path, files={"file": ("用語.csv", data, "text/csv")}), None

    return call


def _publication(method: str, suffix: str = "", stale: bool = False) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        recording_id = stage.published[department]
        path = f"{R}/{recording_id}/publication{suffix}"
        if method == "GET":
            return client.get(path, params={"format": "docx"} if suffix else None), recording_id
        with Session(stage.engine) as db:
            revision = db.exec(select(PublicationCopy.revision).where(PublicationCopy.recording_id == recording_id))
            if_match = '"p999"' if stale else f'"p{revision.one()}"'
        edit = {"add": [{"target": "segment.0", "start": 0, "end": 2}]}  # a manual span: a real edit
        return client.put(path, json=edit, headers={"If-Match": if_match}), recording_id

    return call


def _create_publication(which: str) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        # A new transcript each time (the first copy is 201); the waiting recording stays as it is.
        recording_id = stage.transcribed_in(department) if which == "done" else stage.queued[department]
        return client.post(f"{R}/{recording_id}/publication"), recording_id

    return call


def _search(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    """A recording of the department with a title found nowhere else, already in the index."""
    title = stage.unique("照合確認会議")
    stage.searched = stage.transcribed_in(department, title=title)
    with Session(stage.engine) as db:
        assert index_recording(db, stage.searched)
    return client.get("/api/v1/search", params={"q": title, "limit": "50"}), None


def _propose(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = stage.done[department]
    body = {"before": stage.unique("花天"), "after": stage.unique("放出"), "reading": "はなてん"}
    return client.post(f"{R}/{recording_id}/term-proposals", json=body), recording_id


def _decide(decision: str, status: str = "proposed") -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        proposal_id = stage.add_proposal(department, status)
        return client.post(f"/api/v1/term-proposals/{proposal_id}/{decision}"), stage.done[department]

    return call


def _new_template(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    buffer = io.BytesIO()
    Document().save(buffer)
    form = {"kind": "phone", "department_id": str(stage.department_id[department])}
    files = {"file": ("電話対応記録.docx", buffer.getvalue(), "application/octet-stream")}
    return client.post("/api/v1/admin/templates", data=form, files=files), None


def _template(method: str, suffix: str) -> Call:
    def call(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
        path = f"/api/v1/admin/templates/{stage.add_template(department)}{suffix}"
        return client.request(method, path), None

    return call


def _enrol(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = stage.done[department]
    body = {"speaker": "S1", "name": "北区長", "consent": " "}
    return client.post(f"{R}/{recording_id}/voices", json=body), recording_id


def _name_voices(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    recording_id = stage.done[department]
    return client.post(f"{R}/{recording_id}/voice-names"), recording_id


def _delete_voice(stage: Stage, client: TestClient, department: str) -> tuple[Reply, int | None]:
    return client.delete(f"/api/v1/voices/{stage.add_voice(department)}"), None


def _listed(which: Callable[[Stage, str], int], key: str = "id") -> Callable[[Stage, Reply, str], Outcome]:
    def outcome(stage: Stage, response: Reply, department: str) -> Outcome:
        if response.status_code != 200:
            return response.status_code
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        return "listed" if which(stage, department) in {item[key] for item in items} else "hidden"

    return outcome


CALLS: dict[str, Call] = {
    "POST recordings": _upload_with_dictionary,
    "GET recordings": _plain("GET", f"{R}?limit=200"),
    "GET recording": _recording_get(""),
    "POST cancel (queued)": _cancel_queued,
    "POST cancel (finished)": _cancel_finished,
    "DELETE recording": _delete,
    "GET transcript": _recording_get("/transcript"),
    "GET transcript (queued)": _recording_get("/transcript", "queued"),
    "GET minutes": _recording_get("/minutes"),
    "PUT minutes": _put_minutes(stale=False),
    "PUT minutes (stale)": _put_minutes(stale=True),
    "POST speakers": _relabel,
    "GET minutes revisions": _recording_get("/minutes/revisions"),
    "GET export txt": _recording_get("/export", format="txt"),
    "GET peaks": _recording_get("/peaks"),  # a transcript stored without its worker: no waveform yet
    "POST presence": _presence("POST"),
    "DELETE presence": _presence("DELETE"),
    "GET export docx": _recording_get("/export", format="docx"),
    "GET audio": _recording_get("/audio"),
    "GET usage month": _plain("GET", "/api/v1/usage?month=2026-04"),
    "GET usage fiscal year": _plain("GET", "/api/v1/usage?fiscal_year=2026"),
    "GET usage dashboard": _plain("GET", "/api/v1/usage/dashboard?month=2026-04"),
    "GET usage export CSV": _plain("GET", "/api/v1/usage/export?view=department&start=2026-03&end=2026-04"),
    "PUT usage cap": _cap,
    "GET admin departments": _plain("GET", "/api/v1/admin/departments"),
    "POST admin departments": _new_department,
    "GET admin users": _plain("GET", "/api/v1/admin/users"),
    "POST admin users": _new_user,
    "POST admin user deactivate": _deactivate,
    "GET admin devices": _plain("GET", "/api/v1/admin/devices"),
    "POST admin devices": _new_device,
    "POST admin device revoke": _revoke,
    "PATCH admin department": _rename_department,
    "POST admin dept. retire": _retire_department(retired=False),
    "POST admin dept. reinstate": _retire_department(retired=True),
    "PATCH admin user": _edit_user,
    "POST admin user password": _user_action("password"),
    "POST admin user activate": _user_action("activate"),
    "GET admin tokens": _plain("GET", "/api/v1/admin/tokens"),
    "POST admin tokens": _new_token,
    "POST admin token revoke": _revoke_token,
    "GET admin retention": _plain("GET", "/api/v1/admin/retention"),
    "GET admin audit": _plain("GET", "/api/v1/admin/audit?action=admin.&limit=20"),
    "GET admin audit export": _plain("GET", "/api/v1/admin/audit/export?since=2026-01-01"),
    "POST own password": _own_password,
    "GET dictionaries": _plain("GET", D),
    "POST dictionaries": _new_dictionary(city=False),
    "POST dictionaries (city)": _new_dictionary(city=True),
    "GET dictionary": _get_dictionary(city=False),
    "GET dictionary (city)": _get_dictionary(city=True),
    "DELETE dictionary": _delete_dictionary(city=False),
    "DELETE dictionary (city)": _delete_dictionary(city=True),
    "POST term": _add_term(city=False),
    "POST term (city)": _add_term(city=True),
    "PUT term": _edit_term(city=False),
    "PUT term (city)": _edit_term(city=True),
    "DELETE term": _edit_term(city=False, delete=True),
    "DELETE term (city)": _edit_term(city=True, delete=True),
    "POST import CSV": _import(city=False),
    "POST import CSV (city)": _import(city=True),
    "GET export CSV": _get_dictionary(city=False, suffix="/export"),
    "GET export CSV (city)": _get_dictionary(city=True, suffix="/export"),
    "POST publication": _create_publication("done"),
    "POST publication (queued)": _create_publication("queued"),
    "GET publication": _publication("GET"),
    "PUT publication": _publication("PUT"),
    "PUT publication (stale)": _publication("PUT", stale=True),
    "GET publication export": _publication("GET", "/export"),
    "GET search": _search,
    "POST term proposal": _propose,
    "GET term proposals": _plain("GET", "/api/v1/term-proposals?limit=500"),
    "GET term proposal stats": _plain("GET", "/api/v1/term-proposals/stats"),
    "POST accept proposal": _decide("accept"),
    "POST accept (decided)": _decide("accept", status="rejected"),
    "POST reject proposal": _decide("reject"),
    "GET admin templates": _plain("GET", "/api/v1/admin/templates"),
    "POST admin templates": _new_template,
    "POST admin template use": _template("POST", "/use"),
    "POST admin template unuse": _template("POST", "/unuse"),
    "GET admin template file": _template("GET", "/file"),
    "DELETE admin template": _template("DELETE", ""),
    "GET voices": _plain("GET", "/api/v1/voices"),
    "POST voice enrol": _enrol,
    "POST voice names": _name_voices,
    "DELETE voice": _delete_voice,
}


def _status(stage: Stage, response: Reply, department: str) -> Outcome:
    return response.status_code


OUTCOMES: dict[str, Callable[[Stage, Reply, str], Outcome]] = {
    "GET recordings": _listed(lambda stage, department: stage.done[department]),
    "GET dictionaries": _listed(lambda stage, department: stage.dictionary[department]),
    "GET search": _listed(lambda stage, department: stage.searched, key="recording_id"),
    "GET term proposals": _listed(lambda stage, department: stage.proposal[department]),
    "GET voices": _listed(lambda stage, department: stage.voice[department]),
}


def _last_event(engine: Engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.max(AuditEvent.id))).one() or 0


def _events_since(engine: Engine, mark: int) -> list[AuditEvent]:
    with Session(engine) as db:
        return list(db.exec(select(AuditEvent).where(col(AuditEvent.id) > mark)).all())


def _audit_problem(
    stage: Stage, endpoint: str, user: str | None, outcome: Outcome, recording_id: int | None, events: list[AuditEvent]
) -> str | None:
    """A succeeded call of an audited endpoint wrote its one event; a refused call wrote none."""
    with Session(stage.engine) as db:
        user_id = db.exec(select(User.id).where(User.name == user)).one()
    mine = [e for e in events if e.user_id == user_id]  # not the set-up's (an upload to cancel, say)
    listing = isinstance(outcome, str)
    if not isinstance(outcome, str) and outcome >= 300:  # refused
        return f"audited {[e.action for e in mine]}" if mine else None
    action = AUDITED.get(endpoint)
    if action is None:  # listings (but a search) and reads of dictionaries leave no trail
        return f"audited {[e.action for e in mine]}" if listing and mine else None
    matching = [e for e in mine if e.action == action and e.recording_id == recording_id]
    if len(matching) != 1:
        return f"expected one {action} event for recording {recording_id}, got {[e.action for e in mine]}"
    if "予算" in matching[0].detail:  # ids and formats, never transcript text
        return f"audit detail holds transcript text: {matching[0].detail!r}"
    if not matching[0].ip:
        return f"{action} event without the caller's address"
    return None


def test_access_matrix(world: World, transcript_body: dict[str, Any]) -> None:
    assert set(CALLS) == set(MATRIX), "every endpoint of the matrix needs a call, and every call a row"
    stage = build_stage(world, transcript_body)
    problems: list[str] = []
    cells = 0
    for endpoint, row in MATRIX.items():
        for role, (own, other) in zip(ROLES, row, strict=True):
            client = stage.client(USER[role])
            for scope, expected, department in (("own", own, OWN[role]), ("other", other, OTHER[role])):
                if expected is None:
                    continue
                mark = _last_event(stage.engine)
                response, recording_id = CALLS[endpoint](stage, client, department)
                outcome = OUTCOMES.get(endpoint, _status)(stage, response, department)
                cells += 1
                where = f"{endpoint:<28} {role:<9} {scope:<5}"
                if outcome != expected:
                    problems.append(f"{where} expected {expected}, got {outcome}: {response.text[:160]}")
                    continue
                if role == "anonymous":
                    continue
                problem = _audit_problem(
                    stage, endpoint, USER[role], outcome, recording_id, _events_since(stage.engine, mark)
                )
                if problem:
                    problems.append(f"{where} {problem}")
    assert not problems, f"{len(problems)} of {cells} cells are wrong:\n" + "\n".join(problems)
    assert cells > 250


def test_listing_and_guessed_ids_never_reveal_another_department(
    world: World, transcript_body: dict[str, Any], service_env: dict[str, str]
) -> None:
    stage = Stage(world, transcript_body)
    with Session(world.engine) as db:
        stage.department_id = {d.name: d.id for d in db.exec(select(Department)).all() if d.id is not None}
    mine = [stage.transcribed_in(KITA) for _ in range(2)]
    theirs = [stage.transcribed_in(ZAISEI) for _ in range(3)]
    theirs_queued = int(stage.upload_in(ZAISEI)["id"])
    with Session(world.engine) as db:  # the zaisei titles name what a kita clerk might search for
        for recording_id in [*theirs, theirs_queued]:
            recording = db.get(Recording, recording_id)
            assert recording is not None
            recording.title, recording.kind = "税務調査 面談", "interview"
            db.add(recording)
        db.commit()

    for user, own, foreign in (
        ("clerk_kita", mine, [*theirs, theirs_queued]),
        ("manager_zaisei", [*theirs, theirs_queued], mine),
    ):
        client = stage.client(user)
        for params in (
            {},
            {"limit": "1"},
            {"limit": "1", "offset": "1"},
            {"offset": "3"},
            {"q": "税務"},
            {"kind": "interview"},
            {"status": "succeeded"},
            {"status": "queued"},
            {"since": "2000-01-01T00:00:00Z"},
        ):
            listing = client.get(R, params=params)
            assert listing.status_code == 200, listing.text
            ids = {item["id"] for item in listing.json()["items"]}
            assert not ids & set(foreign), (user, params, ids)
            assert ids <= set(own)
            assert listing.json()["total"] <= len(own), (user, params)
        assert client.get(R).json()["total"] == len(own)

    # A kita clerk guessing ids: another department's recording looks exactly like one that does not exist.
    clerk = stage.client("clerk_kita")
    missing = max([*theirs, theirs_queued]) + 1000
    for suffix in ("", "/transcript", "/audio", "/minutes", "/minutes/revisions", "/export?format=json"):
        nothing = clerk.get(f"{R}/{missing}{suffix}")
        assert nothing.status_code == 404
        for recording_id in [*theirs, theirs_queued]:
            guessed = clerk.get(f"{R}/{recording_id}{suffix}")
            assert guessed.status_code == 404, (suffix, recording_id, guessed.text)
            assert guessed.json() == nothing.json()
            assert "予算" not in guessed.text and "税務" not in guessed.text
        assert clerk.get(f"{R}/{mine[0]}{suffix}").status_code == 200
    for method in ("DELETE", "PUT"):
        for recording_id in (theirs[0], missing):
            path = f"{R}/{recording_id}" + ("/minutes" if method == "PUT" else "")
            refused = clerk.request(method, path, json={}, headers={"If-Match": '"r0"'})
            assert refused.status_code == 404 and refused.json() == nothing.json()
    assert clerk.post(f"{R}/{theirs_queued}/cancel").status_code == 404

    # Nothing of the other department was changed, and every audio file is still there.
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    with Session(world.engine) as db:
        for recording_id in [*theirs, theirs_queued]:
            recording = db.get(Recording, recording_id)
            assert recording is not None and recording.deleted_at is None and recording.audio_path
            assert (storage / recording.audio_path).is_file()
            job = latest_job(db, recording_id)
            assert job is not None and job.status in ("succeeded", "queued") and not job.cancel_requested
        refused_audit = db.exec(
            select(AuditEvent).where(col(AuditEvent.recording_id).in_([*theirs, theirs_queued]))
        ).all()
        # Only the uploads by their own clerk are on their trail: the probes left no view events.
        assert {e.action for e in refused_audit} == {"recording.upload"}
