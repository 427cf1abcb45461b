"""Mutation tests of worker/runner.py (issue 28): what a job leaves behind in each of its endings —
stored with its usage counted once, canceled or deleted meanwhile (nothing stored), retried or failed
with the reason the clerk reads, taken over by another worker (its result dropped) — and the
speakers a relabel is given."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from service.models import Job, JobKind, JobStatus, MinutesRevision, Recording, TranscriptRecord, UsageRecord
from tests.service.test_mutation_recordings import Quick, ident, open_quick
from transcriber.errors import KirokuError, ModelMissing
from transcriber.pipeline import SpeakerHints
from transcriber.transcript import Segment, Speaker, SpeakerTurn, StageFailure, Transcript
from worker.runner import RunnerConfig, run_job

Progress = Callable[[str, float], None]


@pytest.fixture
def quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Quick]:
    yield from open_quick(tmp_path, monkeypatch)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """Retries put back on the queue: (job id, countdown)."""
    calls: list[tuple[int, float]] = []
    monkeypatch.setattr("worker.runner.enqueue", lambda job_id, countdown: calls.append((job_id, countdown)))
    return calls


WORDS = "本日の議題は来年度の予算です。"


def _transcript(duration: float = 9.5, model: str | None = "fake-model", **values: Any) -> Transcript:
    return Transcript(
        duration=duration,
        speakers=[Speaker(id="S1")],
        segments=[Segment(start=0.0, end=4.0, speaker="S1", text=WORDS), Segment(start=5.0, end=9.0, text="以上")],
        model=model,
        **values,
    )


def _config(quick: Quick, **values: Any) -> RunnerConfig:
    return RunnerConfig(storage=quick.storage, **{"heartbeat_seconds": 0.05, "retry_base_seconds": 3.0, **values})


def _queued(quick: Quick, **values: Any) -> tuple[Recording, Job]:
    recording = quick.recording(duration_seconds=30.0, expected_speakers=values.pop("speakers", None))
    return recording, quick.job(recording, **values)


def _stored(quick: Quick) -> tuple[list[TranscriptRecord], list[UsageRecord]]:
    with Session(quick.engine) as db:
        return list(db.exec(select(TranscriptRecord)).all()), list(db.exec(select(UsageRecord)).all())


def test_a_finished_job_stores_its_transcript_and_counts_its_usage_once(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "worker.runner.check_cap", lambda db, department, month, settings: caps.append((department, month))
    )
    recording, job = _queued(quick, speakers=2)
    given: list[SpeakerHints] = []

    def transcribe(path: Path, progress: Progress, terms: Any, hints: SpeakerHints) -> Transcript:
        assert path == quick.storage / str(recording.audio_path) and path.is_file()
        given.append(hints)
        progress("asr", 0.5)
        return _transcript()

    assert run_job(quick.engine, ident(job), transcribe, _config(quick)) == JobStatus.succeeded
    assert given == [SpeakerHints(exact=2)]
    transcripts, usage = _stored(quick)
    assert [(t.recording_id, t.model, t.body["segments"][0]["text"]) for t in transcripts] == [
        (recording.id, "fake-model", WORDS)
    ]
    assert [(u.recording_id, u.model, u.audio_seconds) for u in usage] == [(recording.id, "fake-model", 9.5)]
    assert 0.0 <= usage[0].processing_seconds < 60
    assert caps == [(recording.department_id, usage[0].month)]
    done = quick.get(Job, job.id)
    assert (done.status, done.stage, done.progress, done.attempts, done.error) == ("succeeded", "done", 1.0, 1, "")
    assert done.finished_at is not None and done.started_at is not None and done.worker
    after = quick.get(Recording, recording.id)
    assert (after.duration_seconds, after.machine_chars) == (9.5, len(WORDS) + len("以上"))
    # The same message again (a doubled delivery) runs nothing.
    assert run_job(quick.engine, ident(job), transcribe, _config(quick)) is None
    assert len(given) == 1 and len(_stored(quick)[1]) == 1


def test_a_transcript_without_a_model_or_length_keeps_the_headers_and_names_the_workers_model(quick: Quick) -> None:
    recording, job = _queued(quick)
    config = _config(quick, model_name="whisper-base")
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(duration=0.0, model=None), config) == "succeeded"
    transcripts, usage = _stored(quick)
    assert transcripts[0].model == "" and usage[0].model == "whisper-base"
    assert quick.get(Recording, recording.id).duration_seconds == 30.0  # the header's length stays


def test_a_second_job_of_the_recording_replaces_the_transcript_but_is_not_counted_again(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps: list[int] = []
    monkeypatch.setattr("worker.runner.check_cap", lambda db, department, month, settings: caps.append(department))
    recording, first = _queued(quick)
    assert run_job(quick.engine, ident(first), lambda *a: _transcript(), _config(quick)) == "succeeded"
    second = quick.job(recording)
    changed = _transcript(model="large")
    changed.segments[0].text = "訂正後の文です。"
    assert run_job(quick.engine, ident(second), lambda *a: changed, _config(quick)) == "succeeded"
    transcripts, usage = _stored(quick)
    assert [(t.model, t.body["segments"][0]["text"]) for t in transcripts] == [("large", "訂正後の文です。")]
    assert [u.model for u in usage] == ["fake-model"] and len(caps) == 1


def test_a_failing_cap_check_does_not_fail_the_stored_job(quick: Quick, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("smtp down")

    monkeypatch.setattr("worker.runner.check_cap", broken)
    _, job = _queued(quick)
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick)) == "succeeded"


def test_known_voices_name_the_speakers_and_their_failure_is_no_failure(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    def named(db: Session, department_id: int, transcript: Transcript, audio: Path) -> Transcript:
        return transcript.model_copy(update={"speakers": [Speaker(id="S1", name="田中")]})

    monkeypatch.setattr("worker.runner.name_by_voice", named)
    _, job = _queued(quick)
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick)) == "succeeded"
    assert _stored(quick)[0][0].body["speakers"] == [{"id": "S1", "name": "田中"}]

    def broken(*args: Any) -> Transcript:
        raise RuntimeError("voice model missing")

    monkeypatch.setattr("worker.runner.name_by_voice", broken)
    _, job = _queued(quick)
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick)) == "succeeded"


def test_a_job_whose_recording_was_deleted_or_lost_its_audio_fails(quick: Quick) -> None:
    from service.models import utcnow

    for values in ({"deleted_at": utcnow()}, {"audio": False}):
        recording = quick.recording(**values)
        job = quick.job(recording)
        assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick)) == "failed"
        failed = quick.get(Job, job.id)
        assert (failed.status, failed.error) == ("failed", "録音が削除されています。") and failed.finished_at
    assert _stored(quick) == ([], [])


def _request_cancel(quick: Quick, job: Job) -> None:
    """A clerk's 取り消し arriving while the worker holds the job (as the API's cancel marks it)."""
    with Session(quick.engine) as db:
        row = db.get(Job, ident(job))
        assert row is not None
        row.cancel_requested = True
        db.add(row)
        db.commit()


def test_a_cancel_while_recognising_stops_the_job_and_stores_nothing(quick: Quick) -> None:
    _, job = _queued(quick)
    reports: list[float] = []

    def transcribe(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        _request_cancel(quick, job)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the heartbeat learns of the cancel; the next report stops
            reports.append(time.monotonic())
            progress("asr", 0.5)
            time.sleep(0.02)
        return _transcript()

    assert run_job(quick.engine, ident(job), transcribe, _config(quick)) == "canceled"
    assert reports[-1] - reports[0] < 10
    canceled = quick.get(Job, job.id)
    assert canceled.status == "canceled" and canceled.finished_at is not None
    assert _stored(quick) == ([], [])


def test_a_cancel_that_lands_after_recognition_stores_nothing(quick: Quick) -> None:
    _, job = _queued(quick)

    def transcribe(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        _request_cancel(quick, job)
        return _transcript()

    assert run_job(quick.engine, ident(job), transcribe, _config(quick, heartbeat_seconds=60)) == "canceled"
    assert quick.get(Job, job.id).status == "canceled"
    assert _stored(quick) == ([], [])


def _take_over(quick: Quick, job: Job) -> None:
    """Another worker claims the job (this one was presumed dead)."""
    with Session(quick.engine) as db:
        row = db.get(Job, ident(job))
        assert row is not None
        row.worker = "other-host:1:abcd"
        db.add(row)
        db.commit()


def test_a_job_taken_over_meanwhile_is_left_to_the_other_worker(quick: Quick) -> None:
    _, job = _queued(quick)

    def while_running(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        _take_over(quick, job)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the heartbeat finds its claim gone; the next report stops
            progress("asr", 0.5)
            time.sleep(0.02)
        return _transcript()

    assert run_job(quick.engine, ident(job), while_running, _config(quick)) is None
    row = quick.get(Job, job.id)
    assert (row.status, row.worker) == ("running", "other-host:1:abcd")

    _, job = _queued(quick)

    def at_the_end(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        _take_over(quick, job)
        return _transcript()

    assert run_job(quick.engine, ident(job), at_the_end, _config(quick, heartbeat_seconds=60)) is None
    row = quick.get(Job, job.id)
    assert (row.status, row.worker, row.finished_at) == ("running", "other-host:1:abcd", None)
    assert _stored(quick) == ([], [])


def test_progress_is_written_at_most_once_a_second_per_stage(quick: Quick) -> None:
    _, job = _queued(quick)
    seen: list[tuple[str, float]] = []

    def shown() -> tuple[str, float]:
        row = quick.get(Job, job.id)
        return row.stage, row.progress

    def transcribe(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        progress("asr", 0.1)
        seen.append(shown())
        progress("asr", 0.2)  # too soon: not written
        seen.append(shown())
        progress("asr", 1.0)  # the end of a stage is always written
        seen.append(shown())
        progress("diarize", 0.0)  # a new stage is written at once
        seen.append(shown())
        time.sleep(1.1)
        progress("diarize", 0.5)
        seen.append(shown())
        return _transcript()

    assert run_job(quick.engine, ident(job), transcribe, _config(quick, heartbeat_seconds=60)) == "succeeded"
    assert seen == [("asr", 0.1), ("asr", 0.1), ("asr", 1.0), ("diarize", 0.0), ("diarize", 0.5)]


def test_the_heartbeat_shows_the_worker_alive(quick: Quick) -> None:
    _, job = _queued(quick)
    beats: list[Any] = []

    def transcribe(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        for _ in range(3):
            time.sleep(0.3)
            beats.append(quick.get(Job, job.id).heartbeat_at)
        return _transcript()

    assert run_job(quick.engine, ident(job), transcribe, _config(quick, heartbeat_seconds=0.1)) == "succeeded"
    assert beats[0] < beats[1] < beats[2]


def test_a_crash_is_retried_later_each_time_then_fails_with_the_count(
    quick: Quick, sent: list[tuple[int, float]]
) -> None:
    _, job = _queued(quick)

    def crash(*args: Any) -> Transcript:
        raise RuntimeError("GPU fell off the bus")

    for attempt in (1, 2):
        assert run_job(quick.engine, ident(job), crash, _config(quick)) == "queued"
        row = quick.get(Job, job.id)
        assert (row.status, row.attempts, row.worker) == ("queued", attempt, "")
        assert row.error == "内部エラー (RuntimeError)"
    assert sent == [(job.id, 3.0), (job.id, 6.0)]
    assert run_job(quick.engine, ident(job), crash, _config(quick)) == "queued"
    row = quick.get(Job, job.id)
    assert (row.status, row.attempts) == ("failed", 3) and row.finished_at is not None
    assert row.error == "処理に3回失敗しました: 内部エラー (RuntimeError)"
    assert len(sent) == 2 and _stored(quick) == ([], [])


def test_a_missing_model_is_retried_and_a_broken_recording_fails_at_once(
    quick: Quick, sent: list[tuple[int, float]]
) -> None:
    _, job = _queued(quick, max_attempts=2)

    def no_model(*args: Any) -> Transcript:
        raise ModelMissing("whisper")

    assert run_job(quick.engine, ident(job), no_model, _config(quick)) == "queued"
    row = quick.get(Job, job.id)
    assert (row.status, row.error) == ("queued", "音声認識モデルが見つかりません") and sent == [(job.id, 3.0)]
    assert run_job(quick.engine, ident(job), no_model, _config(quick)) == "queued"
    assert quick.get(Job, job.id).error == "処理に2回失敗しました: 音声認識モデルが見つかりません"

    class Broken(KirokuError):
        ja = "音声ファイルが壊れています"

    def broken(*args: Any) -> Transcript:
        raise Broken("truncated")

    _, job = _queued(quick)
    assert run_job(quick.engine, ident(job), broken, _config(quick)) == "failed"
    row = quick.get(Job, job.id)
    assert (row.status, row.attempts, row.error) == ("failed", 1, "音声ファイルが壊れています。")
    assert row.finished_at is not None and len(sent) == 1


def test_a_retry_of_a_job_another_worker_took_is_not_sent_again(quick: Quick, sent: list[tuple[int, float]]) -> None:
    _, job = _queued(quick)

    def taken_then_crash(*args: Any) -> Transcript:
        _take_over(quick, job)
        raise RuntimeError("late")

    assert run_job(quick.engine, ident(job), taken_then_crash, _config(quick, heartbeat_seconds=60)) == "queued"
    assert sent == [] and quick.get(Job, job.id).status == "running"


# --- relabel jobs ----------------------------------------------------------------------------------


def _relabel_job(quick: Quick, low: int | None, high: int | None, **values: Any) -> tuple[Recording, Job]:
    recording, first = _queued(quick, speakers=values.pop("speakers", None))
    assert run_job(quick.engine, ident(first), lambda *a: _transcript(**values), _config(quick)) == "succeeded"
    return recording, quick.job(recording, kind=JobKind.relabel, min_speakers=low, max_speakers=high)


def _turns(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
    return [SpeakerTurn(start=0.0, end=4.5, speaker="S1"), SpeakerTurn(start=4.5, end=9.5, speaker="S2")]


def test_a_relabel_gives_the_diarizer_the_count_and_stores_new_speakers_without_usage(
    quick: Quick, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [
        StageFailure(stage="diarization", reason="話者分離に失敗しました"),
        StageFailure(stage="dictionary", reason="辞書を使えませんでした"),
    ]
    recording, job = _relabel_job(quick, 2, 2, speakers=1, failed_stages=failures)
    asked: list[SpeakerHints] = []

    def diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
        asked.append(hints)
        return _turns(path, hints)

    def never(*args: Any) -> Transcript:
        raise AssertionError("a relabel does not recognise the text again")

    monkeypatch.setattr("worker.runner.name_by_voice", never)
    assert run_job(quick.engine, ident(job), never, _config(quick), diarize) == "succeeded"
    assert asked == [SpeakerHints(exact=2)]
    transcripts, usage = _stored(quick)
    body = transcripts[0].body
    assert [s["speaker"] for s in body["segments"]] == ["S1", "S2"]
    assert [f["stage"] for f in body["failed_stages"]] == ["dictionary"]  # the diarization failure is over
    assert len(usage) == 1  # the transcription's only
    assert quick.get(Recording, recording.id).expected_speakers == 2


def test_a_relabel_with_a_range_keeps_the_recordings_speaker_count(quick: Quick) -> None:
    recording, job = _relabel_job(quick, 2, 4, speakers=3)
    asked: list[SpeakerHints] = []

    def diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
        asked.append(hints)
        return _turns(path, hints)

    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick), diarize) == "succeeded"
    assert asked == [SpeakerHints(minimum=2, maximum=4)]
    assert quick.get(Recording, recording.id).expected_speakers == 3
    _, job = _relabel_job(quick, None, 5)
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick), diarize) == "succeeded"
    assert asked[-1] == SpeakerHints(minimum=None, maximum=5)


def test_a_relabel_gives_way_to_minutes_saved_meanwhile(quick: Quick) -> None:
    recording, job = _relabel_job(quick, 2, 2)

    def diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
        with Session(quick.engine) as db:
            db.add(MinutesRevision(recording_id=ident(recording), number=1, body={}))
            db.commit()
        return _turns(path, hints)

    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick), diarize) == "failed"
    row = quick.get(Job, job.id)
    assert row.error == "議事録が保存されたため、話者数は変更しませんでした。" and row.finished_at is not None
    assert {s["speaker"] for s in _stored(quick)[0][0].body["segments"]} == {"S1"}
    assert quick.get(Recording, recording.id).expected_speakers is None


def test_a_relabel_canceled_while_diarizing_keeps_the_transcript(quick: Quick) -> None:
    _, job = _relabel_job(quick, 2, 2)

    def diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
        _request_cancel(quick, job)
        time.sleep(0.5)  # the heartbeat learns of it before the diarizer's last report
        return _turns(path, hints)

    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick), diarize) == "canceled"
    assert {s["speaker"] for s in _stored(quick)[0][0].body["segments"]} == {"S1"}


def test_a_relabel_without_a_transcript_or_a_diarizer_fails_or_waits_for_another_worker(
    quick: Quick, sent: list[tuple[int, float]]
) -> None:
    recording = quick.recording()
    job = quick.job(recording, kind=JobKind.relabel, min_speakers=2, max_speakers=2)
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick), _turns) == "failed"
    assert quick.get(Job, job.id).error == "文字起こしがありません。"
    _, job = _relabel_job(quick, 2, 2)
    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick)) == "queued"
    row = quick.get(Job, job.id)
    assert (row.status, row.error) == ("queued", "この処理装置では話者分離が使えません")
    assert sent == [(job.id, 3.0)]


def test_a_recording_deleted_while_recognised_stores_nothing(quick: Quick) -> None:
    from service.recordings import delete_recording

    recording, job = _queued(quick)

    def transcribe(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        with Session(quick.engine) as db:
            shown = db.get(Recording, ident(recording))
            assert shown is not None
            delete_recording(db, quick.caller("clerk_kita"), shown, ip="")
        return _transcript()

    assert run_job(quick.engine, ident(job), transcribe, _config(quick, heartbeat_seconds=60)) == "canceled"
    assert quick.get(Job, job.id).status == "canceled"
    assert _stored(quick) == ([], [])

    # The store's fence looks at the recording itself too, not only at the job's cancel flag.
    from service.models import utcnow

    recording, job = _queued(quick)

    def marked_deleted(path: Path, progress: Progress, terms: Any, hints: Any) -> Transcript:
        with Session(quick.engine) as db:
            row = db.get(Recording, ident(recording))
            assert row is not None
            row.deleted_at = utcnow()
            db.add(row)
            db.commit()
        return _transcript()

    assert run_job(quick.engine, ident(job), marked_deleted, _config(quick, heartbeat_seconds=60)) == "canceled"
    assert _stored(quick) == ([], [])


def test_a_relabel_shows_the_clerk_it_is_finding_speakers(quick: Quick) -> None:
    _, job = _relabel_job(quick, 2, 2)
    seen: list[tuple[str, float]] = []

    def diarize(path: Path, hints: SpeakerHints) -> list[SpeakerTurn]:
        assert path.is_file()
        row = quick.get(Job, job.id)
        seen.append((row.stage, row.progress))
        return _turns(path, hints)

    assert run_job(quick.engine, ident(job), lambda *a: _transcript(), _config(quick), diarize) == "succeeded"
    assert seen == [("diarize", 0.0)]
