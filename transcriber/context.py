"""What the clerk already told us about a recording (its title, agenda, attendees), as the text
Whisper is shown before it starts: its initial prompt.

Whisper leans towards words it has just "seen", so a title such as 「城東区区政会議」 or an
attendee's name written once makes the recogniser spell them that way when they are said. The
prompt is written as the transcript itself is (sentences ending in 「。」), because Whisper reads
it as the text said before the audio, and it is kept short: it shares Whisper's 224 prompt tokens
with the text already recognised, which matters more once the recording is under way.
"""

from __future__ import annotations

from collections.abc import Iterable

# About 80 tokens of Japanese text with the base model's tokenizer: room is left for the words
# already written in the window, which Whisper is conditioned on too.
MAX_CONTEXT_CHARS = 120
_ENDINGS = "。．.!！?？"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    return text if text[-1] in _ENDINGS else text + "。"


def context_prompt(
    title: str | None = None,
    agenda: str | None = None,
    attendees: Iterable[str] = (),
    limit: int = MAX_CONTEXT_CHARS,
) -> str | None:
    """The prompt for a recording, or None when nothing is known about it.

    Title first, then agenda, then attendees: when they do not all fit in ``limit`` characters,
    the ones later in that order are cut at a sentence or name boundary, never in a word.
    """
    parts = [_sentence(title or ""), _sentence(agenda or "")]
    names = [" ".join(n.split()) for n in attendees if n and n.strip()]
    prompt = ""
    for part in parts:
        if part and len(prompt) + len(part) <= limit:
            prompt += part
    if names:
        listed = ""
        for name in names:
            candidate = f"{listed}、{name}" if listed else f"出席者は{name}"
            if len(prompt) + len(candidate) + 1 > limit:
                break
            listed = candidate
        if listed:
            prompt += listed + "。"
    return prompt or None
