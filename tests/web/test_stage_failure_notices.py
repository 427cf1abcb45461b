"""What a clerk sees when a later stage failed (issue 23): the editor says, in Japanese, that the
speakers could not be told apart and the transcript was kept on one speaker; a relabel that failed
leaves the recording listed as 完了, with a note, instead of 失敗."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from service.models import Job, JobKind, JobStatus
from tests.conftest import SINGLE
from tests.web.conftest import Site, log_in, shoot, watch_errors
from tests.web.transcripts import meeting, store_finished
from transcriber.pipeline import STAGE_FAILURE_REASONS

pytestmark = pytest.mark.slow


def test_a_failed_speaker_stage_is_explained_and_a_failed_relabel_is_not_a_failure(
    site_factory: Any, browser: Any, shots: Path
) -> None:
    site: Site = site_factory(worker=False)
    transcript = meeting(6, speakers=1)
    reason = STAGE_FAILURE_REASONS["diarization"]
    transcript["failed_stages"] = [{"stage": "diarization", "reason": reason, "error": "RuntimeError"}]
    recording_id = store_finished(site.engine, site.storage, "web_clerk", "話者判定の失敗", transcript, SINGLE)
    now = datetime.now(UTC)
    with Session(site.engine) as db:  # then the clerk's relabel failed on every attempt
        db.add(
            Job(
                recording_id=recording_id,
                kind=JobKind.relabel,
                status=JobStatus.failed,
                attempts=3,
                error="処理に3回失敗しました: 内部エラー (RuntimeError)",
                started_at=now,
                finished_at=now,
            )
        )
        db.commit()
    context = site.context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    log_in(page, site.base, "web_clerk")
    status = page.locator(f'tr[data-id="{recording_id}"] [data-cell="status"]')
    expect(status).to_contain_text("完了")
    expect(status).to_contain_text("話者の再判定に失敗しました。文字起こしはそのまま使えます。")
    expect(status).not_to_contain_text("失敗しました:")
    shoot(page, shots, "23-relabel-failed-list")

    page.goto(f"{site.base}/recordings/{recording_id}")
    page.wait_for_selector("body[data-ready='true']")
    notice = page.locator("#stage-failures")
    expect(notice).to_have_text(reason)
    expect(notice).to_have_attribute("role", "status")
    shoot(page, shots, "23-speaker-stage-failed-editor")
    context.close()
    assert errors == []
