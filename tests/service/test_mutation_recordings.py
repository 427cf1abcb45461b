"""Mutation tests of service/recordings.py (issue 28): the list's pages and filters, cancelling,
relabel refusals, deletion, the transcript, exports' names, and the audio's audit, each checked the
way a clerk would notice it.

``quick``, the fixture these tests share with the other test_mutation_* files, copies one migrated
SQLite database (users made once per process) instead of migrating and hashing passwords per test:
mutmut runs each test once per mutant, so its set-up time is paid thousands of times.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.access import Caller
from service.errors import ServiceError
from service.models import (
    AuditEvent,
    Job,
    JobKind,
    JobStatus,
    MinutesRevision,
    PublicationCopy,
    Recording,
    Role,
    TermProposal,
    TranscriptRecord,
    UploadSession,
    User,
    utcnow,
)

USERS = (
    ("clerk_kita", Role.clerk, "北区役所 保健福祉課"),
    ("manager_kita", Role.manager, "北区役所 保健福祉課"),
    ("clerk_zaisei", Role.clerk, "財政局 税務部"),
    ("root_admin", Role.admin, "デジタル統括室"),
)


def _settings_env(folder: Path) -> dict[str, str]:
    return {
        "KIROKU_DATABASE_URL": f"sqlite:///{folder / 'kiroku.db'}",
        "KIROKU_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}",
        "KIROKU_STORAGE_DIR": str(folder / "storage"),
        "KIROKU_DIARIZATION": "off",
        "KIROKU_RETRY_BASE_SECONDS": "1",
        "KIROKU_WARM_UP_PERSONAL_DATA": "0",
    }


def _use(env: dict[str, str]) -> None:
    from service.db import engine_for
    from service.queue import celery_app
    from service.settings import get_settings

    os.environ.update(env)
    get_settings.cache_clear()
    celery_app.cache_clear()
    engine_for.cache_clear()


@functools.cache
def _template() -> Path:
    """A migrated database with the four users, made once per process (a forked mutant reuses it)."""
    from service.accounts import add_user
    from service.bootstrap import prepare
    from service.db import engine_for, get_engine
    from service.settings import get_settings

    folder = Path(tempfile.mkdtemp(prefix="kiroku-mutation-"))
    saved = dict(os.environ)
    try:
        _use(_settings_env(folder))
        prepare(get_settings(), first_admin=False)
        with Session(get_engine()) as db:
            for name, role, department in USERS:
                add_user(db, name, role, department, "correct-horse-battery")
        get_engine().dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        engine_for.cache_clear()
    return folder / "kiroku.db"


@dataclass
class Quick:
    """A fresh copy of the template database, its storage folder, and callers by user name."""

    engine: Engine
    storage: Path
    users: dict[str, User] = field(default_factory=dict)

    def caller(self, name: str, via: str = "session") -> Caller:
        return Caller(self.users[name], via)

    def department(self, name: str) -> int:
        return self.users[name].department_id

    def recording(self, owner: str = "clerk_kita", *, audio: bool = True, **values: Any) -> Recording:
        """A recording of ``owner``'s department with a small audio file in the store (no job)."""
        with Session(self.engine) as db:
            recording = Recording(department_id=self.department(owner), **values)
            if audio:
                folder = self.storage / "audio"
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{len(list(folder.iterdir()))}-{os.getpid()}.flac"
                (folder / name).write_bytes(b"fLaC" + b"\0" * 64)
                recording.audio_path = f"audio/{name}"
            db.add(recording)
            db.commit()
            db.refresh(recording)
            return recording

    def job(self, recording: Recording, **values: Any) -> Job:
        with Session(self.engine) as db:
            assert recording.id is not None
            job = Job(recording_id=ident(recording), **values)
            db.add(job)
            db.commit()
            db.refresh(job)
            return job

    def get(self, model: type[Any], key: Any) -> Any:
        with Session(self.engine) as db:
            return db.get(model, key)


def ident(row: Any) -> int:
    assert row.id is not None
    return int(row.id)


def open_quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Quick]:
    """The ``quick`` fixture's body (each test_mutation_* file declares the fixture with it)."""
    from service.db import get_engine

    template = _template()
    shutil.copyfile(template, tmp_path / "kiroku.db")
    env = _settings_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _use(env)
    (tmp_path / "storage").mkdir()
    engine = get_engine()
    with Session(engine) as db:
        users = {u.name: u for u in db.exec(select(User)).all()}
    yield Quick(engine, tmp_path / "storage", users)
    engine.dispose()
    _use({})


@pytest.fixture
def quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Quick]:
    yield from open_quick(tmp_path, monkeypatch)


# --- the list -------------------------------------------------------------------------------------


def _listed(quick: Quick, who: str = "clerk_kita", **filters: Any) -> tuple[int, list[int]]:
    from service.recordings import list_recordings

    query: dict[str, Any] = {"kind": None, "status": None, "q": None, "since": None, "until": None}
    query.update({"limit": 50, "offset": 0, **filters})
    with Session(quick.engine) as db:
        page = list_recordings(db, quick.caller(who), **query)
    return page["total"], [item["id"] for item in page["items"]]


def _days(quick: Quick, count: int = 4) -> list[int]:
    """``count`` kita recordings made on 2024-04-01, 02, … at 09:00 UTC; ids newest first."""
    ids = []
    for day in range(count):
        made = quick.recording(title=f"会議{day}", created_at=datetime(2024, 4, 1 + day, 9, tzinfo=UTC))
        assert made.id is not None
        ids.append(made.id)
    return ids[::-1]


def test_pages_follow_each_other_without_repeating(quick: Quick) -> None:
    newest = _days(quick, 5)
    quick.recording("clerk_zaisei", title="財政の会議")
    assert _listed(quick) == (5, newest)
    assert _listed(quick, limit=2) == (5, newest[:2])
    assert _listed(quick, limit=2, offset=2) == (5, newest[2:4])  # page 2 does not repeat page 1
    assert _listed(quick, limit=2, offset=4) == (5, newest[4:])


def test_recordings_made_at_the_same_instant_are_newest_id_first(quick: Quick) -> None:
    same = datetime(2024, 5, 1, 9, tzinfo=UTC)
    first, second = quick.recording(created_at=same), quick.recording(created_at=same)
    assert _listed(quick) == (2, [second.id, first.id])
    assert _listed(quick, limit=1, offset=1) == (2, [first.id])


def test_since_includes_its_instant_and_until_excludes_it(quick: Quick) -> None:
    newest = _days(quick)  # April 4, 3, 2, 1
    april_2 = datetime(2024, 4, 2, 9, tzinfo=UTC)
    assert _listed(quick, since=april_2) == (3, newest[:3])
    assert _listed(quick, until=april_2) == (1, newest[3:])
    assert _listed(quick, since=april_2, until=datetime(2024, 4, 4, 9, tzinfo=UTC)) == (2, newest[1:3])


def test_kind_and_title_filters(quick: Quick) -> None:
    meeting = quick.recording(kind="meeting", title="予算説明会")
    phone = quick.recording(kind="phone", title="電話 100%_対応")
    assert _listed(quick, kind="phone") == (1, [phone.id])
    assert _listed(quick, kind="meeting") == (1, [meeting.id])
    assert _listed(quick, q="予算") == (1, [meeting.id])
    assert _listed(quick, q="100%_") == (1, [phone.id])  # % and _ are letters, not wildcards
    assert _listed(quick, q="0%対") == (0, [])
    assert _listed(quick, q="") == (2, [phone.id, meeting.id])


def test_each_department_lists_its_own_and_an_admin_all(quick: Quick) -> None:
    kita = quick.recording()
    zaisei = quick.recording("clerk_zaisei")
    assert _listed(quick, "clerk_kita") == (1, [kita.id])
    assert _listed(quick, "clerk_zaisei") == (1, [zaisei.id])
    assert _listed(quick, "root_admin") == (2, [zaisei.id, kita.id])


def test_a_deleted_recording_is_not_listed(quick: Quick) -> None:
    kept = quick.recording()
    quick.recording(deleted_at=utcnow())
    assert _listed(quick) == (1, [kept.id])


def test_the_status_filter_shows_the_newest_job_and_a_failed_relabel_as_transcribed(quick: Quick) -> None:
    queued, running, done, relabel_failed, relabel_canceled, failed = (quick.recording() for _ in range(6))
    quick.job(queued)
    quick.job(running, status=JobStatus.running)
    quick.job(done, status=JobStatus.failed)
    quick.job(done, status=JobStatus.succeeded)  # the newest job is the one shown
    for recording, status in ((relabel_failed, JobStatus.failed), (relabel_canceled, JobStatus.canceled)):
        quick.job(recording, status=JobStatus.succeeded)
        quick.job(recording, kind=JobKind.relabel, status=status, error="話者分離に失敗")
    quick.job(failed, status=JobStatus.failed)

    def newest_first(*recordings: Recording) -> list[int]:
        return sorted((ident(r) for r in recordings), reverse=True)

    assert _listed(quick, status="queued") == (1, [queued.id])
    assert _listed(quick, status="running") == (1, [running.id])
    assert _listed(quick, status="succeeded") == (3, newest_first(done, relabel_failed, relabel_canceled))
    assert _listed(quick, status="failed") == (1, [failed.id])
    assert _listed(quick, status="canceled") == (0, [])
    # Unfiltered, each row shows its recording's newest job.
    from service.recordings import list_recordings

    with Session(quick.engine) as db:
        page = list_recordings(
            db, quick.caller("clerk_kita"), kind=None, status=None, q=None, since=None, until=None, limit=50, offset=0
        )
    shown = {item["id"]: item["status"] for item in page["items"]}
    assert (shown[done.id], shown[running.id], shown[queued.id]) == ("succeeded", "running", "queued")


def test_the_list_shows_a_failed_relabel_as_transcribed_with_a_notice(quick: Quick) -> None:
    from service.recordings import recording_view

    recording = quick.recording(title="面談", duration_seconds=12.34567)
    quick.job(recording, status=JobStatus.succeeded)
    failed = quick.job(recording, kind=JobKind.relabel, status=JobStatus.failed, error="boom")
    view = recording_view(recording, failed)
    shown = {key: view[key] for key in ("id", "title", "kind", "source", "department_id", "held_at", "place")}
    assert shown == {
        "id": recording.id,
        "title": "面談",
        "kind": "meeting",
        "source": "web",
        "department_id": quick.department("clerk_kita"),
        "held_at": None,
        "place": "",
    }
    rest = ("attendees", "expected_speakers", "dictionary_ids", "original_filename", "uploaded_by_id", "device_id")
    assert [view[key] for key in rest] == ["", None, [], "", None, None]
    assert view["created_at"] == recording.created_at and view["job_id"] == failed.id
    assert (view["status"], view["progress"]) == (JobStatus.succeeded, 1.0)
    assert view["notice"] == "話者の再判定に失敗しました。文字起こしはそのまま使えます。"
    assert view["error"] == "boom" and view["duration_seconds"] == 12.346 and view["audio_available"] is True
    canceled = quick.job(recording, kind=JobKind.relabel, status=JobStatus.canceled)
    assert (
        recording_view(recording, canceled)["notice"]
        == "話者の再判定は取り消されました。文字起こしはそのまま使えます。"
    )
    running = quick.job(recording, kind=JobKind.relabel, status=JobStatus.running)
    assert "notice" not in recording_view(recording, running)
    plain_failure = quick.job(recording, status=JobStatus.failed)
    assert recording_view(recording, plain_failure)["status"] == JobStatus.failed
    assert "notice" not in recording_view(recording, None)


# --- cancelling and relabelling ----------------------------------------------------------------------


def test_only_a_running_or_queued_job_can_be_cancelled(quick: Quick) -> None:
    from service.recordings import cancel_recording

    recording = quick.recording()
    with Session(quick.engine) as db:
        with pytest.raises(ServiceError) as nothing:
            cancel_recording(db, quick.caller("clerk_kita"), recording, ip="127.0.0.1")
        assert (nothing.value.status, nothing.value.code) == (409, "not_running")
        assert nothing.value.message == "処理中ではないため取り消せません。"
    done = quick.job(recording, status=JobStatus.succeeded)
    with Session(quick.engine) as db, pytest.raises(ServiceError):
        cancel_recording(db, quick.caller("clerk_kita"), recording, ip="127.0.0.1")
    assert quick.get(Job, done.id).status == JobStatus.succeeded
    running = quick.job(recording, status=JobStatus.running)
    with Session(quick.engine) as db:
        cancel_recording(db, quick.caller("clerk_kita"), recording, ip="10.0.0.7")
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.cancel")).all()
    assert quick.get(Job, running.id).cancel_requested is True
    assert [(e.recording_id, e.ip, e.user_id) for e in events] == [
        (recording.id, "10.0.0.7", quick.users["clerk_kita"].id)
    ]


def _relabel(quick: Quick, recording: Recording, **wanted: int | None) -> Job:
    from service.recordings import relabel_speakers

    values: dict[str, int | None] = {"count": None, "low": None, "high": None, **wanted}
    with Session(quick.engine) as db:
        job = relabel_speakers(db, quick.caller("clerk_kita"), recording, ip="127.0.0.1", **values)
        db.refresh(job)
        db.expunge(job)
        return job


RELABEL_REFUSALS = {
    "busy": "処理中です。終わってから話者数を変更してください。",
    "not_ready": "文字起こしはまだ完了していません。",
    "minutes_saved": "議事録を保存した後は話者数を変更できません。",
    "audio_deleted": "保存期間を過ぎたため音声は削除されています。話者数を変更できません。",
}


def _refusal(quick: Quick, recording: Recording, **wanted: int | None) -> tuple[int, str]:
    with pytest.raises(ServiceError) as refused:
        _relabel(quick, recording, **wanted)
    assert refused.value.message == RELABEL_REFUSALS[refused.value.code]
    return refused.value.status, refused.value.code


def test_relabel_is_refused_while_busy_before_a_transcript_after_minutes_and_without_audio(quick: Quick) -> None:
    recording = quick.recording()
    job = quick.job(recording, status=JobStatus.running)
    assert _refusal(quick, recording, count=2) == (409, "busy")
    with Session(quick.engine) as db:
        stored = db.get(Job, job.id)
        assert stored is not None
        stored.status = JobStatus.succeeded
        db.add(stored)
        db.commit()
    assert _refusal(quick, recording, count=2) == (409, "not_ready")
    with Session(quick.engine) as db:
        db.add(TranscriptRecord(recording_id=ident(recording), body={"segments": []}))
        db.commit()
    no_audio = quick.recording(audio=False)
    quick.job(no_audio, status=JobStatus.succeeded)
    with Session(quick.engine) as db:
        db.add(TranscriptRecord(recording_id=ident(no_audio), body={"segments": []}))
        db.commit()
    assert _refusal(quick, no_audio, count=2) == (410, "audio_deleted")
    with Session(quick.engine) as db:
        db.add(MinutesRevision(recording_id=ident(recording), number=1, body={}))
        db.commit()
    assert _refusal(quick, recording, count=2) == (409, "minutes_saved")


def test_relabel_queues_exactly_the_count_or_the_range_and_audits_it(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.settings import get_settings

    monkeypatch.setenv("KIROKU_MAX_ATTEMPTS", "4")
    get_settings.cache_clear()
    recording = quick.recording()
    quick.job(recording, status=JobStatus.succeeded)
    with Session(quick.engine) as db:
        db.add(TranscriptRecord(recording_id=ident(recording), body={"segments": []}))
        db.commit()
    exact = _relabel(quick, recording, count=3, low=1, high=9)
    assert (exact.kind, exact.min_speakers, exact.max_speakers, exact.status) == ("relabel", 3, 3, "queued")
    assert exact.max_attempts == 4
    with Session(quick.engine) as db:
        job = db.get(Job, exact.id)
        assert job is not None
        job.status = JobStatus.succeeded
        db.add(job)
        db.commit()
    ranged = _relabel(quick, recording, low=2, high=4)
    assert (ranged.min_speakers, ranged.max_speakers) == (2, 4)
    with Session(quick.engine) as db:
        details = [
            (e.detail, e.recording_id, e.user_id, e.ip)
            for e in db.exec(select(AuditEvent).where(AuditEvent.action == "recording.relabel"))
        ]
    clerk = quick.users["clerk_kita"].id
    assert details == [("count 3", recording.id, clerk, "127.0.0.1"), ("min 2 max 4", recording.id, clerk, "127.0.0.1")]


# --- deletion --------------------------------------------------------------------------------------


def test_deleting_takes_the_audio_the_texts_and_open_proposals_and_cancels_the_job(quick: Quick) -> None:
    from service.recordings import delete_recording

    recording = quick.recording(title="秘密の会議", place="第1会議室", attendees="佐藤", original_filename="a.flac")
    other = quick.recording(title="別の会議")
    assert recording.audio_path is not None and other.audio_path is not None
    (quick.storage / f"{recording.audio_path}.peaks.json").write_text("[]")
    running = quick.job(recording, status=JobStatus.running)
    waiting = quick.job(recording)
    with Session(quick.engine) as db:
        for rid in (ident(recording), ident(other)):
            db.add(TranscriptRecord(recording_id=rid, body={"segments": []}))
            db.add(MinutesRevision(recording_id=rid, number=1, body={}))
            db.add(PublicationCopy(recording_id=rid, body={"spans": []}, minutes_revision=1))
        department = recording.department_id
        accepted = TermProposal(
            department_id=department,
            recording_id=ident(recording),
            term="蛍",
            status="accepted",
            segment=1,
            start=0,
            end=2,
        )
        opened = TermProposal(
            department_id=department, recording_id=ident(recording), term="烏賊", segment=2, start=0, end=2
        )
        db.add(accepted)
        db.add(opened)
        db.add(
            UploadSession(
                id="a" * 32,
                department_id=recording.department_id,
                length=1,
                offset=1,
                meta={"title": "秘密の会議"},
                recording_id=ident(recording),
            )
        )
        db.commit()
        accepted_id, opened_id = accepted.id, opened.id
    from service.models import SearchDocument
    from service.search import index_recording

    with Session(quick.engine) as db:
        index_recording(db, ident(recording))
        assert db.get(SearchDocument, recording.id) is not None
    with Session(quick.engine) as db:
        shown = db.get(Recording, recording.id)
        assert shown is not None
        delete_recording(db, quick.caller("clerk_kita"), shown, ip="10.1.2.3")

    assert not (quick.storage / recording.audio_path).exists()
    assert not (quick.storage / f"{recording.audio_path}.peaks.json").exists()
    assert (quick.storage / other.audio_path).exists()  # another recording's audio stays
    with Session(quick.engine) as db:
        for table in (TranscriptRecord, MinutesRevision, PublicationCopy):
            rows: list[Any] = list(db.exec(select(table)).all())
            assert [r.recording_id for r in rows] == [other.id], table
        gone = db.get(Recording, recording.id)
        assert gone is not None and gone.deleted_at is not None and gone.audio_deleted_at is not None
        assert (gone.audio_path, gone.title, gone.place, gone.attendees, gone.original_filename) == (
            None,
            "(削除済み)",
            "",
            "",
            "",
        )
        # The queued job ends canceled; the running one is told to stop (its worker stores nothing).
        assert db.get(Job, waiting.id).status == JobStatus.canceled  # type: ignore[union-attr]
        assert db.get(Job, running.id).cancel_requested is True  # type: ignore[union-attr]
        kept = db.get(TermProposal, accepted_id)
        assert kept is not None and (kept.recording_id, kept.segment, kept.start, kept.end) == (None, None, None, None)
        assert kept.term == "蛍"
        assert db.get(TermProposal, opened_id) is None
        upload = db.get(UploadSession, "a" * 32)
        assert upload is not None and upload.meta == {} and upload.recording_id == recording.id
        event = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.delete")).one()
        assert (event.recording_id, event.ip, event.user_id) == (recording.id, "10.1.2.3", quick.users["clerk_kita"].id)
        assert db.get(SearchDocument, recording.id) is None  # no longer found by search
    assert _listed(quick) == (1, [other.id])


# --- reading ---------------------------------------------------------------------------------------


def test_the_transcript_is_read_once_stored_and_the_reading_is_audited(quick: Quick) -> None:
    from service.recordings import read_transcript

    recording = quick.recording()
    with Session(quick.engine) as db:
        with pytest.raises(ServiceError) as not_ready:
            read_transcript(db, quick.caller("clerk_kita"), recording, ip="127.0.0.1")
        assert not_ready.value.status == 409
        db.add(TranscriptRecord(recording_id=ident(recording), body={"segments": [{"text": "本日は"}]}))
        db.commit()
        body = read_transcript(db, quick.caller("clerk_kita"), recording, ip="10.9.9.9")
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.view")).all()
    assert body == {"segments": [{"text": "本日は"}]}
    assert [(e.detail, e.recording_id, e.ip, e.user_id) for e in events] == [
        ("transcript", recording.id, "10.9.9.9", quick.users["clerk_kita"].id)
    ]


def test_the_audio_is_audited_once_per_listener_and_ten_minutes(quick: Quick) -> None:
    from service.recordings import audio_file

    recording = quick.recording()
    clerk, manager = quick.caller("clerk_kita"), quick.caller("manager_kita")

    def views() -> list[tuple[int | None, str]]:
        with Session(quick.engine) as db:
            query = select(AuditEvent).where(AuditEvent.action == "recording.view").order_by(col(AuditEvent.id))
            return [(e.user_id, e.detail) for e in db.exec(query)]

    with Session(quick.engine) as db:
        # Another action's event that happens to say "audio" is no listening.
        db.add(AuditEvent(action="recording.export", user_id=clerk.user_id, recording_id=recording.id, detail="audio"))
        db.commit()
        path = audio_file(db, clerk, recording, ip="10.4.4.4")
        assert path == quick.storage / str(recording.audio_path) and path.is_file()
        audio_file(db, clerk, recording, ip="127.0.0.1")  # the player's next range request
    assert views() == [(clerk.user_id, "audio")]
    with Session(quick.engine) as db:
        assert db.exec(select(AuditEvent.ip).where(AuditEvent.action == "recording.view")).all() == ["10.4.4.4"]
    with Session(quick.engine) as db:
        audio_file(db, manager, recording, ip="127.0.0.1")  # another listener counts
        # The same listener on another recording counts as well.
        second = quick.recording()
        audio_file(db, clerk, second, ip="127.0.0.1")
        # A transcript view is not an audio view.
        db.add(
            AuditEvent(action="recording.view", user_id=manager.user_id, recording_id=second.id, detail="transcript")
        )
        db.commit()
        audio_file(db, manager, second, ip="127.0.0.1")
        # Eleven minutes later the same clerk listening again is a new event.
        for event in db.exec(select(AuditEvent).where(AuditEvent.user_id == clerk.user_id)).all():
            event.at = utcnow() - timedelta(minutes=11)
            db.add(event)
        db.commit()
        audio_file(db, clerk, recording, ip="127.0.0.1")
    assert views() == [
        (clerk.user_id, "audio"),
        (manager.user_id, "audio"),
        (clerk.user_id, "audio"),
        (manager.user_id, "transcript"),
        (manager.user_id, "audio"),
        (clerk.user_id, "audio"),
    ]
    with Session(quick.engine) as db:
        assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "recording.view")).all()) == 6
        with pytest.raises(ServiceError) as gone:
            audio_file(db, clerk, quick.recording(audio=False), ip="127.0.0.1")
        assert (gone.value.status, gone.value.code) == (410, "audio_deleted")
        assert gone.value.message == "保存期間を過ぎたため音声は削除されています。"
        missing = quick.recording()
        (quick.storage / str(missing.audio_path)).unlink()
        with pytest.raises(ServiceError) as lost:
            audio_file(db, clerk, missing, ip="127.0.0.1")
        assert lost.value.status == 404


def test_an_export_is_named_by_the_date_held_and_the_minutes_title(quick: Quick) -> None:
    from service.recordings import export_name

    held = quick.recording(kind="meeting", title="アップロード名", held_at=datetime(2026, 4, 15, 1, tzinfo=UTC))
    assert export_name(held, {"title": "予算説明会"}, "docx") == "20260415_予算説明会_会議録.docx"
    assert export_name(held, {}, "txt") == "20260415_アップロード名_会議録.txt"
    assert "公開用" in export_name(held, {}, "txt", publication=True)
    made = quick.recording(kind="meeting", title="", created_at=datetime(2026, 5, 1, 3, tzinfo=UTC))
    assert export_name(made, {"title": None}, "txt") == "20260501_会議録.txt"


# --- uploads' fields -------------------------------------------------------------------------------


def test_upload_fields_are_checked_and_trimmed() -> None:
    from service.recordings import _held_at, upload_fields
    from service.records.fields import KNOWN_KEYS, MAX_FIELD

    key = sorted(k for k in KNOWN_KEYS if k not in ("title", "held_at"))[0]
    assert upload_fields({key: "  北区  "}) == {key: "北区"}
    assert upload_fields({key: "   "}) == {}
    assert upload_fields({key: "x" * MAX_FIELD}) == {key: "x" * MAX_FIELD}
    for bad in ({key: "x" * (MAX_FIELD + 1)}, {"title": "件名"}, {"held_at": "2026"}, {"unknown": "x"}, {key: "a\x00"}):
        with pytest.raises(ServiceError) as refused:
            upload_fields(bad)
        assert refused.value.status == 422, bad
    assert _held_at(None) is None
    japan = _held_at(datetime(2026, 4, 15, 10, 0))
    assert japan is not None and japan.utcoffset() == timedelta(hours=9)
    utc = datetime(2026, 4, 15, 1, 0, tzinfo=UTC)
    assert _held_at(utc) == utc
    assert _held_at(datetime(1900, 1, 1, tzinfo=UTC)) is not None and _held_at(datetime(2200, 1, 1, tzinfo=UTC))
    for year in (1899, 2201):
        with pytest.raises(ServiceError):
            _held_at(datetime(year, 6, 1, tzinfo=UTC))


# --- receiving an upload -----------------------------------------------------------------------------


def _receive(quick: Quick, who: str = "clerk_kita", via: str = "session", **values: Any) -> tuple[Recording, Job]:
    from service.recordings import receive_upload
    from tests.conftest import SINGLE

    upload: dict[str, Any] = {
        "filename": "C:\\Users\\tanaka\\定例会.flac",
        "kind": "meeting",
        "title": "",
        "held_at": None,
        "place": "",
        "attendees": "",
        "speakers": None,
        "dictionary_ids": [],
        "ip": "10.0.0.1",
        **values,
    }
    with Session(quick.engine) as db, SINGLE.open("rb") as stream:
        recording, job = receive_upload(db, quick.caller(who, via), stream, **upload)
        db.refresh(recording)
        db.refresh(job)
        db.expunge_all()
    return recording, job


def _refused(quick: Quick, **values: Any) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        _receive(quick, **values)
    return refused.value


def test_an_upload_becomes_a_queued_recording_of_the_callers_department(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.records.fields import KNOWN_KEYS
    from service.settings import get_settings

    monkeypatch.setenv("KIROKU_MAX_ATTEMPTS", "5")
    get_settings.cache_clear()
    key = sorted(k for k in KNOWN_KEYS if k not in ("title", "held_at"))[0]
    recording, job = _receive(
        quick,
        "clerk_zaisei",
        held_at=datetime(2026, 4, 15, 10, 0),
        place="第2会議室",
        attendees="田中、佐藤",
        speakers=2,
        fields={key: " 北区 "},
    )
    assert recording.department_id == quick.department("clerk_zaisei")
    assert (recording.source, recording.kind, recording.title) == ("web", "meeting", "定例会")
    assert (recording.original_filename, recording.place, recording.attendees) == (
        "定例会.flac",
        "第2会議室",
        "田中、佐藤",
    )
    assert (recording.expected_speakers, recording.fields, recording.dictionary_ids) == (2, {key: "北区"}, [])
    assert recording.held_at is not None and recording.held_at.replace(tzinfo=UTC) == datetime(
        2026, 4, 15, 1, tzinfo=UTC
    )
    assert recording.uploaded_by_id == quick.users["clerk_zaisei"].id and recording.duration_seconds > 5
    assert (job.status, job.max_attempts, job.recording_id) == ("queued", 5, recording.id)
    assert recording.audio_path is not None and (quick.storage / recording.audio_path).is_file()
    leftovers = [p for p in quick.storage.rglob("*.upload")]
    assert leftovers == []  # the streamed temporary file is gone
    with Session(quick.engine) as db:
        event = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.upload")).one()
    assert (event.recording_id, event.user_id, event.ip) == (recording.id, quick.users["clerk_zaisei"].id, "10.0.0.1")
    scripted, _ = _receive(quick, via="token", title="API の録音")
    assert (scripted.source, scripted.title) == ("api", "API の録音")
    get_settings.cache_clear()


def test_an_upload_may_use_the_city_and_its_own_departments_dictionaries_only(quick: Quick) -> None:
    from service.models import Dictionary

    with Session(quick.engine) as db:
        mine = Dictionary(name="北区", department_id=quick.department("clerk_kita"))
        theirs = Dictionary(name="財政", department_id=quick.department("clerk_zaisei"))
        db.add(mine)
        db.add(theirs)
        db.commit()
        city = db.exec(select(Dictionary).where(col(Dictionary.department_id).is_(None))).first()
        assert city is not None
        ids = {"mine": ident(mine), "theirs": ident(theirs), "city": ident(city)}
    recording, _ = _receive(quick, dictionary_ids=[ids["mine"], ids["city"]])
    assert recording.dictionary_ids == [ids["mine"], ids["city"]]
    for wrong in (ids["theirs"], 999_999, 0, 2**31):
        error = _refused(quick, dictionary_ids=[ids["mine"], wrong])
        assert (error.status, error.code, error.message) == (422, "dictionary", f"用語辞書 {wrong} は使えません。")
    assert _listed(quick) == (1, [recording.id])  # nothing of the refused uploads was stored


def test_an_upload_with_unusable_text_or_an_impossible_date_is_refused(quick: Quick) -> None:
    from service.records.fields import KNOWN_KEYS, MAX_FIELD, OTHER_LABELS

    error = _refused(quick, title="会議\x07")
    assert (error.status, error.code) == (422, "invalid")
    assert error.message.startswith("タイトルに使えない文字 (") and error.message.endswith(") が含まれています。")
    assert _refused(quick, place="\x00").message.startswith("場所に使えない文字")
    assert _refused(quick, attendees="\x1b").message.startswith("出席者に使えない文字")
    key = sorted(k for k in KNOWN_KEYS if k not in ("title", "held_at"))[0]
    label = OTHER_LABELS[key]
    field_error = _refused(quick, fields={key: "\x00"})
    assert (field_error.code, field_error.message[: len(label) + 1]) == ("invalid", f"{label}に")
    long = _refused(quick, fields={key: "x" * (MAX_FIELD + 1)})
    assert (long.status, long.code, long.message) == (
        422,
        "invalid",
        f"{label}は {MAX_FIELD} 文字までの文字列にしてください。",
    )
    unknown = _refused(quick, fields={"n" * 60: "x"})
    assert (unknown.status, unknown.code, unknown.message) == (422, "invalid", f"記録の項目 {'n' * 50} はありません。")
    date = _refused(quick, held_at=datetime(1899, 12, 31, tzinfo=UTC))
    assert (date.status, date.code, date.message) == (422, "invalid", "日時 (held_at) が正しくありません。")
    assert _listed(quick) == (0, [])


def test_an_upload_over_the_size_limit_leaves_no_file(quick: Quick, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.settings import get_settings

    monkeypatch.setenv("KIROKU_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    error = _refused(quick)
    get_settings.cache_clear()
    assert error.status == 413
    assert [p for p in quick.storage.rglob("*") if p.is_file()] == []


# --- exports -----------------------------------------------------------------------------------------


def _transcribed(quick: Quick, **values: Any) -> Recording:
    recording = quick.recording(kind="meeting", held_at=datetime(2026, 4, 15, 1, tzinfo=UTC), **values)
    body = {
        "schema": "kiroku.transcript/1",
        "duration": 9.0,
        "speakers": [{"id": "S1", "name": "田中課長"}],
        "segments": [{"start": 1.0, "end": 8.0, "speaker": "S1", "text": "えー、本日の議題は予算です。"}],
    }
    with Session(quick.engine) as db:
        db.add(TranscriptRecord(recording_id=ident(recording), body=body))
        db.commit()
    return recording


def test_an_export_is_the_minutes_in_the_asked_format_and_is_audited(quick: Quick) -> None:
    from service.exports import MEDIA_TYPES, ExportOptions
    from service.recordings import export_recording

    recording = _transcribed(quick, title="予算説明会")
    clerk = quick.caller("clerk_kita")
    with Session(quick.engine) as db:
        plain = export_recording(db, clerk, recording, "txt", ip="10.0.0.2")
        tidy = export_recording(db, clerk, recording, "txt", options=ExportOptions(tidy=True, timestamps=True), ip="")
        bare = export_recording(db, clerk, recording, "txt", options=ExportOptions(timestamps=False), ip="")
        docx = export_recording(db, clerk, recording, "docx", ip="")
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "recording.export")).all()
    text = plain.data.decode("utf-8")
    assert "えー、本日の議題は予算です。" in text and "田中課長" in text
    assert "えー" not in tidy.data.decode("utf-8") and "本日の議題は予算です。" in tidy.data.decode("utf-8")
    assert "00:00:01" not in bare.data.decode("utf-8")
    assert (plain.media_type, plain.filename, plain.ascii_name) == (
        MEDIA_TYPES["txt"],
        "20260415_予算説明会_会議録.txt",
        f"recording-{recording.id}.txt",
    )
    assert docx.data[:2] == b"PK" and docx.media_type == MEDIA_TYPES["docx"] and docx.filename.endswith(".docx")
    assert [(e.detail, e.user_id, e.recording_id) for e in events] == [
        ("txt", clerk.user_id, recording.id),
        ("txt tidy timestamps", clerk.user_id, recording.id),
        ("txt", clerk.user_id, recording.id),
        ("docx", clerk.user_id, recording.id),
    ]
    assert events[0].ip == "10.0.0.2"
    with Session(quick.engine) as db, pytest.raises(ServiceError) as not_ready:
        export_recording(db, clerk, quick.recording(), "txt", ip="")
    assert not_ready.value.status == 409
