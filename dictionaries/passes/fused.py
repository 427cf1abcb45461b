"""A term whose first sounds Whisper fused with the word before into katakana it could not place
(はい、此花区 → ハイコの花区): the unknown word's tail starts the term."""

from __future__ import annotations

from dictionaries.passes.index import ReadingIndex
from dictionaries.passes.rules import MIN_REREAD_READING
from dictionaries.passes.sound import SoundPass
from dictionaries.passes.spans import Span, Taken
from dictionaries.reading import Token
from dictionaries.text import is_kana, to_hiragana


class FusedTailPass:
    """Tried at a token where the sound pass found nothing: only an exact reading of
    MIN_REREAD_READING kana or more that goes on past the unknown word, and only a change."""

    def __init__(self, index: ReadingIndex, sound: SoundPass) -> None:
        self._index = index
        self._sound = sound

    def match(self, text: str, tokens: list[Token], i: int, taken: Taken) -> Span | None:
        token = tokens[i]
        if not token.unknown or len(token.surface) < 2 or not is_kana(token.surface):
            return None
        for offset in range(1, len(token.surface)):
            tail = token.surface[offset:]
            cut = Token(tail, to_hiragana(tail), token.pos, token.start + offset, token.end)
            found = self._sound.match(text, [*tokens[:i], cut, *tokens[i + 1 :]], i, taken)
            if found is None or text[found.start : found.end] == found.term.term or found.last_token <= i:
                continue
            heard = "".join(t.reading for t in [cut, *tokens[i + 1 : found.last_token + 1]])
            if len(heard) >= MIN_REREAD_READING and self._index.exact.get(heard) is not None:
                return found
        return None
