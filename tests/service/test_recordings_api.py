"""Uploading, processing, reading, editing and exporting a recording through the REST API."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import Job, Recording, UsageRecord
from tests.conftest import DIALOGUE, SINGLE
from tests.service.conftest import World, run_queued_job
from transcriber.pipeline import Pipeline

pytestmark = pytest.mark.slow


def _upload(client, path: Path = SINGLE, **fields):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        data = {"kind": "meeting", **fields}
        return client.post("/api/v1/recordings", files={"file": (path.name, handle, "audio/flac")}, data=data)


def test_upload_transcribe_edit_export(
    world: World, transcribe_fn: object, service_env: dict[str, str], tmp_path: Path
) -> None:
    clerk = world.client("clerk_kita")
    created = _upload(clerk, title="予算説明会", speakers="1")
    assert created.status_code == 201, created.text
    recording = created.json()
    assert recording["status"] == "queued" and recording["title"] == "予算説明会"
    assert recording["duration_seconds"] == pytest.approx(9.45, abs=0.2)

    not_ready = clerk.get(f"/api/v1/recordings/{recording['id']}/transcript")
    assert not_ready.status_code == 409

    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    assert run_queued_job(world.engine, recording["job_id"], transcribe_fn, storage) == "succeeded"
    # A doubled queue message must not run the job again.
    assert run_queued_job(world.engine, recording["job_id"], transcribe_fn, storage) is None

    status = clerk.get(f"/api/v1/recordings/{recording['id']}").json()
    assert status["status"] == "succeeded" and status["progress"] == 1.0
    transcript = clerk.get(f"/api/v1/recordings/{recording['id']}/transcript").json()
    assert transcript["schema"] == "kiroku.transcript/1"
    assert "予算" in "".join(s["text"] for s in transcript["segments"])

    minutes = clerk.get(f"/api/v1/recordings/{recording['id']}/minutes")
    assert minutes.headers["ETag"] == '"r0"'
    body = minutes.json()
    body["header"]["agenda"] = "来年度予算"
    body["transcript"]["speakers"] = [{"id": "S1", "name": "田中課長"}]
    saved = clerk.put(f"/api/v1/recordings/{recording['id']}/minutes", json=body, headers={"If-Match": '"r0"'})
    assert saved.status_code == 200 and saved.headers["ETag"] == '"r1"'
    # Another clerk who loaded revision 0 cannot overwrite revision 1.
    stale = clerk.put(f"/api/v1/recordings/{recording['id']}/minutes", json=body, headers={"If-Match": '"r0"'})
    assert stale.status_code == 409 and "他の人が先に保存" in stale.json()["detail"]
    assert clerk.put(f"/api/v1/recordings/{recording['id']}/minutes", json=body).status_code == 428

    docx = clerk.get(f"/api/v1/recordings/{recording['id']}/export", params={"format": "docx"})
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "会議録" in text and "○田中課長\u3000" in text
    cells = [c.text for row in document.tables[0].rows for c in row.cells]
    assert "来年度予算" in cells and "予算説明会" in cells
    srt = clerk.get(f"/api/v1/recordings/{recording['id']}/export", params={"format": "srt"}).text
    assert "-->" in srt and "田中課長" in srt

    with Session(world.engine) as db:
        usage = db.exec(select(UsageRecord)).all()
    assert len(usage) == 1 and usage[0].source == "web" and usage[0].kind == "meeting"
    manager = world.client("manager_kita")
    month = manager.get("/api/v1/usage", params={"month": usage[0].month}).json()
    assert month["target_hours"] == 1870.0
    assert month["used_hours"] == pytest.approx(9.45 / 3600, abs=0.001)
    assert month["by_department"][0]["department"] == "北区役所 保健福祉課"


def test_not_audio_is_refused_and_nothing_is_queued(world: World, tmp_path: Path) -> None:
    fake = tmp_path / "議事録.wav"
    fake.write_text("これは音声ではありません" * 100)
    clerk = world.client("clerk_kita")
    refused = _upload(clerk, fake)
    assert refused.status_code == 415
    assert "音声ファイルではありません" in refused.json()["detail"]
    with Session(world.engine) as db:
        assert db.exec(select(Job)).all() == []
    assert clerk.get("/api/v1/recordings").json()["total"] == 0


def test_cancel_queued_then_delete(world: World, service_env: dict[str, str]) -> None:
    clerk = world.client("clerk_kita")
    recording = _upload(clerk, DIALOGUE, kind="phone").json()
    canceled = clerk.post(f"/api/v1/recordings/{recording['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert clerk.post(f"/api/v1/recordings/{recording['id']}/cancel").status_code == 409
    audio = Path(service_env["KIROKU_STORAGE_DIR"]) / "audio"
    assert len(list(audio.iterdir())) == 1
    assert clerk.delete(f"/api/v1/recordings/{recording['id']}").status_code == 204
    assert list(audio.iterdir()) == []
    assert clerk.get(f"/api/v1/recordings/{recording['id']}").status_code == 404


def test_session_needs_csrf_header_but_bearer_does_not(world: World) -> None:
    clerk = world.client("clerk_kita")
    del clerk.headers["X-CSRF-Token"]
    assert _upload(clerk).status_code == 403
    from sqlmodel import Session as DbSession

    from service.accounts import add_token

    with DbSession(world.engine) as db:
        token = add_token(db, "clerk_kita")
    script = world.client()
    script.headers["Authorization"] = f"Bearer {token}"
    created = _upload(script)
    assert created.status_code == 201 and created.json()["source"] == "api"


def _listed(client: TestClient, **params: str | int) -> tuple[int, list[int]]:
    response = client.get("/api/v1/recordings", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["total"], [item["id"] for item in body["items"]]


def _five_days_of_uploads(world: World) -> list[int]:
    """Five uploads of the kita department, made 2024-04-01 … 04-05 at 09:00 UTC: newest first."""
    clerk = world.client("clerk_kita")
    ids = [int(_upload(clerk, title=f"会議{day}").json()["id"]) for day in range(5)]
    _upload(world.client("clerk_zaisei"))  # another department's: never on a kita page
    with Session(world.engine) as db:
        for day, recording_id in enumerate(ids):
            recording = db.get(Recording, recording_id)
            assert recording is not None
            recording.created_at = datetime(2024, 4, 1 + day, 9, 0, tzinfo=UTC)
            db.add(recording)
        db.commit()
    return ids[::-1]


def test_listing_pages_are_disjoint_and_cover_every_recording(world: World) -> None:
    newest_first = _five_days_of_uploads(world)
    clerk = world.client("clerk_kita")
    assert _listed(clerk) == (5, newest_first)
    pages = [_listed(clerk, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [total for total, _ in pages] == [5, 5, 5]
    assert [ids for _, ids in pages] == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    assert _listed(clerk, limit=2, offset=5) == (5, [])


def test_listing_since_and_until_bound_the_upload_time(world: World) -> None:
    newest_first = _five_days_of_uploads(world)  # uploaded on April 5, 4, 3, 2, 1
    clerk = world.client("clerk_kita")
    # `since` includes its instant, `until` excludes it.
    assert _listed(clerk, since="2024-04-02T09:00:00Z") == (4, newest_first[:4])
    assert _listed(clerk, until="2024-04-04T09:00:00Z") == (3, newest_first[2:])
    assert _listed(clerk, since="2024-04-02T09:00:00Z", until="2024-04-04T09:00:00Z") == (2, newest_first[2:4])
    # The same instants written in Japan time select the same recordings.
    assert _listed(clerk, since="2024-04-02T18:00:00+09:00", until="2024-04-04T18:00:00+09:00") == (
        2,
        newest_first[2:4],
    )
    # Filter and page together: the total counts the filtered recordings, the page is a slice of them.
    assert _listed(clerk, since="2024-04-02T09:00:00Z", limit=3, offset=3) == (4, newest_first[3:4])
    assert _listed(clerk, since="2024-04-06T00:00:00Z") == (0, [])


@pytest.fixture(scope="module")
def diarizing_transcribe_fn(pipeline: Pipeline) -> object:
    """The worker's call with diarization on (`auto`): the session's loaded pipeline, no new load."""
    assert pipeline.options.diarization == "auto" and pipeline.diarizer is not None, "diarization weights missing"

    def transcribe(path, progress, terms, hints):
        return pipeline.run(path, progress=progress, terms=terms, speakers=hints)

    return transcribe


def test_the_speaker_count_given_at_upload_reaches_the_transcript(
    world: World, diarizing_transcribe_fn: object, service_env: dict[str, str]
) -> None:
    # The two-voice dialogue: told 2 speakers it has two; told 1 (a hint the voices alone would not
    # give), one. Both together show the upload's hint is what the diarizer was given.
    clerk = world.client("clerk_kita")
    storage = Path(service_env["KIROKU_STORAGE_DIR"])
    for told in (2, 1):
        recording = _upload(clerk, DIALOGUE, kind="phone", speakers=str(told)).json()
        assert run_queued_job(world.engine, recording["job_id"], diarizing_transcribe_fn, storage) == "succeeded"
        transcript = clerk.get(f"/api/v1/recordings/{recording['id']}/transcript").json()
        assert [s["id"] for s in transcript["speakers"]] == [f"S{k}" for k in range(1, told + 1)], transcript
        assert {s["speaker"] for s in transcript["segments"]} == {f"S{k}" for k in range(1, told + 1)}
