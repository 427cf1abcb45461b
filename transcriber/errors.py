"""Errors the pipeline raises for bad input or set-up, each with a user message and an exit code.

The CLI prints ``message`` (Japanese first, English after) on one line and exits with
``exit_code``; the worker stores ``message`` as the job's error shown to the user.
"""

from __future__ import annotations


class KirokuError(Exception):
    """Base class: a failure a user can understand and act on."""

    exit_code = 1
    ja = "処理に失敗しました"
    en = "processing failed"

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.ja} / {self.en}"
        return f"{text}: {self.detail}" if self.detail else text


class InputNotReadable(KirokuError):
    exit_code = 3
    ja = "入力ファイルを読み込めません"
    en = "cannot read the input file"


class NotAudio(KirokuError):
    exit_code = 4
    ja = "音声ファイルではありません"
    en = "the file is not audio"


class CorruptAudio(KirokuError):
    exit_code = 5
    ja = "音声ファイルが壊れているか途中で切れています"
    en = "the audio file is corrupt or truncated"


class UnsupportedCodec(KirokuError):
    exit_code = 6
    ja = "この音声形式(コーデック)には対応していません"
    en = "unsupported audio codec"


# The longest recording kiroku takes (a whole day of council sittings). A longer one would need more
# memory than a worker has (16 kHz float32: 230 MB an hour); a tiny file that decodes to more is a bomb.
MAX_HOURS = 12


class AudioTooLong(KirokuError):
    exit_code = 6  # like an unsupported codec: this file, as it is, is beyond what kiroku takes
    ja = f"録音が長すぎます({MAX_HOURS}時間まで)"
    en = f"the recording is too long ({MAX_HOURS} hours at most)"


class EmptyAudio(KirokuError):
    exit_code = 7
    ja = "音声の長さが0秒です"
    en = "the audio has zero length"


class OutputNotWritable(KirokuError):
    exit_code = 8
    ja = "出力ファイルを書き込めません"
    en = "cannot write the output file"


class ModelMissing(KirokuError):
    exit_code = 9
    ja = "音声認識モデルが見つかりません"
    en = "speech recognition model not found"


class DictionaryUnreadable(KirokuError):
    exit_code = 10
    ja = "用語辞書を読み込めません"
    en = "cannot read the terminology dictionary"
