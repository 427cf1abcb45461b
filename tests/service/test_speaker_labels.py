"""A speaker nobody named is called the same on screen as in the record: the minutes the editor loads
carry each one's 発言者A, 発言者B … (``speaker_labels``), made by the rule the Word and text files
follow — order of first speaking, named speakers skipped — also after a save re-letters them, and in
the 整文 (tidy) files, where an utterance tidied away could otherwise move who spoke first."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from sqlmodel import Session

from service.exports import ExportOptions, export
from service.minutes import Minutes
from service.models import TranscriptRecord
from service.records.speech import speaker_labels, unnamed_labels
from tests.conftest import SINGLE
from tests.service.conftest import World
from transcriber.transcript import Transcript


def _body(speakers: list[dict[str, Any]], said: list[tuple[str, str]]) -> dict[str, Any]:
    segments = [
        {"start": 4.0 * k, "end": 4.0 * k + 3, "speaker": who, "text": text} for k, (who, text) in enumerate(said)
    ]
    return Transcript.model_validate(
        {"duration": 4.0 * len(said), "speakers": speakers, "segments": segments}
    ).to_json_dict()


# S3 speaks first, S1 is named, S2 has an empty utterance before its first words.
BODY = _body(
    [{"id": "S1", "name": "議長"}, {"id": "S2"}, {"id": "S3", "name": "  "}],
    [
        ("S3", "それでは始めます。"),
        ("S1", "議題に入ります。"),
        ("S2", ""),
        ("S3", "質問です。"),
        ("S2", "お答えします。"),
    ],
)


def _record_names(minutes: dict[str, Any], **options: Any) -> list[str]:
    """The speaker of each 「○名前　…」 paragraph of the Word record."""
    data = export(Minutes.model_validate(minutes), "docx", "meeting", "記録", options=ExportOptions(**options))
    paragraphs = [p.text for p in Document(io.BytesIO(data)).paragraphs if p.text.startswith("○")]
    return [p[1:].split("\u3000")[0] for p in paragraphs]


def test_the_screen_labels_are_the_records_labels() -> None:
    labels = unnamed_labels(BODY)
    # By first speaking, not by id (S3 before S2); a blank name is no name; 議長 keeps her name.
    assert labels == {"S3": "発言者A", "S2": "発言者B"}
    assert labels == {k: v for k, v in speaker_labels(Transcript.model_validate(BODY)).items() if k != "S1"}
    assert _record_names({"header": {}, "transcript": BODY}) == ["発言者A", "議長", "発言者A", "発言者B"]


def test_a_speaker_who_never_speaks_still_gets_a_letter_after_the_others() -> None:
    body = _body([{"id": "S1"}, {"id": "S2"}, {"id": "S9"}], [("S2", "はい。"), ("S1", "どうぞ。")])
    assert unnamed_labels(body) == {"S2": "発言者A", "S1": "発言者B", "S9": "発言者C"}


def test_the_27th_unnamed_speaker_is_AA() -> None:
    said = [(f"S{n}", "はい。") for n in range(1, 29)]
    labels = unnamed_labels(_body([], said))
    assert (labels["S1"], labels["S26"], labels["S27"], labels["S28"]) == ("発言者A", "発言者Z", "発言者AA", "発言者AB")


def test_tidy_files_keep_the_letters_of_the_minutes() -> None:
    # S2's first utterance is a filler only: 整文 drops it, and S1 would become the first to speak.
    body = _body([{"id": "S1"}, {"id": "S2"}], [("S2", "えー、"), ("S1", "始めます。"), ("S2", "質問です。")])
    minutes = {"header": {}, "transcript": body}
    assert unnamed_labels(body) == {"S2": "発言者A", "S1": "発言者B"}
    assert _record_names(minutes) == ["発言者A", "発言者B", "発言者A"]
    assert _record_names(minutes, tidy=True) == ["発言者B", "発言者A"]
    text = export(Minutes.model_validate(minutes), "txt", "meeting", "記録", options=ExportOptions(tidy=True))
    assert text.decode("utf-8").splitlines()[0].endswith("発言者B: 始めます。")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_minutes_carry_the_labels_and_a_save_re_letters_them(world: World) -> None:
    clerk = world.client("clerk_kita")
    with SINGLE.open("rb") as handle:
        created = clerk.post(
            "/api/v1/recordings", files={"file": ("a.flac", handle, "audio/flac")}, data={"kind": "meeting"}
        )
    assert created.status_code == 201, created.text
    recording_id = created.json()["id"]
    with Session(world.engine) as db:
        db.add(TranscriptRecord(recording_id=recording_id, body=BODY))
        db.commit()
    base = f"/api/v1/recordings/{recording_id}"
    minutes = clerk.get(f"{base}/minutes").json()
    assert minutes["speaker_labels"] == {"S3": "発言者A", "S2": "発言者B"}

    # The clerk names S3: S2 is now the first unnamed speaker, on screen as in the file.
    minutes["transcript"]["speakers"][2]["name"] = "田中課長"
    saved = clerk.put(f"{base}/minutes", json=minutes, headers={"If-Match": '"r0"'})
    assert saved.status_code == 200, saved.text
    assert saved.json()["speaker_labels"] == {"S2": "発言者A"}
    assert "speaker_labels" not in clerk.get(f"{base}/minutes/revisions/1").json()["transcript"]  # not stored
    assert clerk.get(f"{base}/minutes/revisions/1").json()["speaker_labels"] == {"S2": "発言者A"}
    assert clerk.get(f"{base}/minutes/revisions/0").json()["speaker_labels"] == {"S3": "発言者A", "S2": "発言者B"}
    exported = clerk.get(f"{base}/export", params={"format": "txt"}).content.decode("utf-8")
    assert [line.split("] ")[1].split(":")[0] for line in exported.splitlines()] == [
        "田中課長",
        "議長",
        "発言者A",
        "田中課長",
        "発言者A",
    ]
    schema = clerk.get("/openapi.json").json()["components"]["schemas"]["MinutesOut"]
    assert schema["properties"]["speaker_labels"]["additionalProperties"] == {"type": "string"}
