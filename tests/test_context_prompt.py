"""Issue 21: what the clerk typed at upload (title, agenda, attendees) is shown to Whisper as the
text said before the recording, on every pass the recogniser makes over it."""

from __future__ import annotations

from transcriber.context import MAX_CONTEXT_CHARS, context_prompt
from transcriber.pipeline import Pipeline

from .test_redecode_budget import WindowedRecognizer, pipeline  # noqa: F401  (the fixture)


def test_nothing_known_gives_no_prompt() -> None:
    assert context_prompt() is None
    assert context_prompt(title="  ", agenda="", attendees=["", " "]) is None


def test_the_prompt_reads_as_transcript_sentences() -> None:
    prompt = context_prompt(
        title="城東区区政会議", agenda="令和9年度の予算について", attendees=["区長", "総務課長 山田"]
    )
    assert prompt == "城東区区政会議。令和9年度の予算について。出席者は区長、総務課長 山田。"


def test_a_long_agenda_never_cuts_a_name_or_a_sentence() -> None:
    names = [f"委員{n}" for n in range(60)]
    prompt = context_prompt(title="防災会議", agenda="避難所運営マニュアルの改訂", attendees=names)
    assert prompt is not None and len(prompt) <= MAX_CONTEXT_CHARS
    assert prompt.startswith("防災会議。避難所運営マニュアルの改訂。出席者は委員0、")
    listed = prompt.removesuffix("。").split("出席者は", 1)[1].split("、")
    assert listed == names[: len(listed)]  # whole names, in order, as many as fit
    # A title longer than the limit is left out rather than cut in a word.
    assert context_prompt(title="あ" * (MAX_CONTEXT_CHARS + 1), agenda="議題") == "議題。"


def test_every_pass_over_the_recording_is_given_the_context(pipeline: Pipeline) -> None:  # noqa: F811
    pipeline.run("meeting.flac", context="予算会議。")
    recognizer = pipeline.recognizer
    assert isinstance(recognizer, WindowedRecognizer)
    # The first pass and the skipped stretch decoded again alone: both hear the title.
    assert recognizer.contexts == ["予算会議。", "予算会議。"]
    pipeline.run("meeting.flac")
    assert recognizer.contexts[2:] == [None, None]  # nothing carried over to the next recording
