"""The agent's settings: a TOML file (``/etc/kiroku/device.toml``, ``%ProgramData%\\kiroku\\device.toml``)
and the command line, which wins. Room defaults (kind, title pattern, expected speakers) name what the
room records; the title pattern takes 「{部屋}」「{日付}」「{時刻}」「{ファイル名}」.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from platformdirs import site_config_path, user_data_path

from service.vocabulary import Kind

AFTER_CHOICES = ("keep", "archive", "delete")
# The formats the server accepts (``service.storage.AUDIO_SUFFIXES``; a test keeps the two equal).
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".mp3", ".m4a", ".aac", ".mp4", ".mov", ".ogg", ".oga", ".opus", ".webm", ".weba"}
    | {".wma", ".mka", ".mkv", ".3gp", ".amr", ".aif", ".aiff", ".caf"}
)
DEFAULT_TITLE = "{部屋} {日付} 会議"
# Placeholders of the title pattern, with their English spellings.
_ALIASES = {"room": "部屋", "date": "日付", "time": "時刻", "file": "ファイル名"}


class ConfigError(Exception):
    """A setting is missing or wrong; the message is Japanese first, then English."""


def default_config_path() -> Path:
    """``/etc/kiroku/device.toml`` on Linux, ``%ProgramData%\\kiroku\\device.toml`` on Windows."""
    if sys.platform == "win32":
        return site_config_path("kiroku", appauthor=False) / "device.toml"
    return Path("/etc/kiroku/device.toml")


def default_data_dir() -> Path:
    return user_data_path("kiroku", appauthor=False) / "device"


@dataclass(frozen=True)
class AgentConfig:
    server: str = ""
    key: str = ""
    folder: Path | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    log_file: Path | None = None  # besides stderr (a Windows service has no journal)
    # The room: what its recordings are.
    room: str = ""
    kind: str = Kind.meeting.value
    title: str = DEFAULT_TITLE
    speakers: int | None = None
    # When a file is complete: its size and time unchanged this long, or its marker file present.
    stable_seconds: float = 60.0
    marker: str = ""  # e.g. ".done": FILE.wav.done or FILE.done next to it; empty: by stability
    scan_seconds: float = 5.0
    extensions: frozenset[str] = AUDIO_SUFFIXES
    # Sending.
    parallel: int = 1
    after: str = "keep"  # keep | archive | delete, once the server has confirmed the recording
    archive_dir: Path | None = None
    timeout: float = 60.0
    chunk_size: int = 4 * 1024 * 1024
    retry_base_seconds: float = 5.0
    retry_cap_seconds: float = 300.0  # the longest wait between tries while the server is down
    heartbeat_seconds: float = 300.0
    min_free_percent: float = 10.0  # warn when the disk of the folder has less free space than this

    def checked(self) -> AgentConfig:
        """This configuration, or a ConfigError naming the first problem."""
        if not self.server.startswith(("http://", "https://")):
            raise ConfigError(
                "サーバーの URL (server) を http:// か https:// で指定してください / server must be an http(s) URL"
            )
        if not self.key:
            raise ConfigError("機器キー (key) を指定してください / the device key is missing")
        if self.folder is None:
            raise ConfigError("監視するフォルダー (folder) を指定してください / the folder to watch is missing")
        if self.kind not in {k.value for k in Kind}:
            raise ConfigError(
                f"種類 (kind) は {', '.join(k.value for k in Kind)} のいずれかです / unknown kind {self.kind!r}"
            )
        if self.after not in AFTER_CHOICES:
            raise ConfigError(f"送信後 (after) は keep, archive, delete のいずれかです / unknown after {self.after!r}")
        if self.after == "archive" and self.archive_dir is None:
            raise ConfigError("after = archive には archive_dir が必要です / after = archive needs archive_dir")
        if self.speakers is not None and not 1 <= self.speakers <= 20:
            raise ConfigError("話者数 (speakers) は 1〜20 です / speakers must be 1 to 20")
        if not 1 <= self.parallel <= 4:
            raise ConfigError("同時送信数 (parallel) は 1〜4 です / parallel must be 1 to 4")
        for name in ("stable_seconds", "scan_seconds", "retry_base_seconds", "retry_cap_seconds", "heartbeat_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} は正の数です / {name} must be positive")
        try:
            self.title_for(Path("x.wav"), datetime.now())
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigError(f"タイトルの書式 (title) が正しくありません / bad title pattern: {error}") from None
        return self

    def title_for(self, path: Path, when: datetime) -> str:
        """「{部屋} {日付} 会議」 → 「北区役所 第1会議室 2026年12月7日 会議」."""
        values = {
            "部屋": self.room,
            "日付": f"{when.year}年{when.month}月{when.day}日",
            "時刻": when.strftime("%H:%M"),
            "ファイル名": path.stem,
        }
        values.update({english: values[japanese] for english, japanese in _ALIASES.items()})
        return " ".join(self.title.format(**values).split())[:300]


# The file's sections and keys → AgentConfig fields (a flat key at the top level is accepted too).
_SECTIONS = {
    "room": {"name": "room", "kind": "kind", "title": "title", "speakers": "speakers"},
    "watch": {
        "stable_seconds": "stable_seconds",
        "marker": "marker",
        "scan_seconds": "scan_seconds",
        "extensions": "extensions",
    },
    "send": {
        "parallel": "parallel",
        "after": "after",
        "archive_dir": "archive_dir",
        "timeout": "timeout",
        "chunk_size": "chunk_size",
        "retry_base_seconds": "retry_base_seconds",
        "retry_cap_seconds": "retry_cap_seconds",
        "heartbeat_seconds": "heartbeat_seconds",
        "min_free_percent": "min_free_percent",
    },
}
_PATHS = {"folder", "data_dir", "log_file", "archive_dir"}


def load_config(path: Path, required: bool) -> AgentConfig:
    """The file's settings over the defaults; a missing file is fine unless it was named."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ConfigError(f"設定ファイルがありません / no such config file: {path}") from None
        return AgentConfig()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"設定ファイルを読めません / cannot read the config file {path}: {error}") from None
    return with_values(AgentConfig(), _flatten(raw, path))


def _flatten(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    known = {f.name for f in fields(AgentConfig)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS and isinstance(value, dict):
            for inner, inner_value in value.items():
                if inner not in _SECTIONS[key]:
                    raise ConfigError(f"設定ファイルに不明な項目 [{key}] {inner} / unknown key in {path}")
                values[_SECTIONS[key][inner]] = inner_value
        elif key in known:
            values[key] = value
        else:
            raise ConfigError(f"設定ファイルに不明な項目 {key} / unknown key {key!r} in {path}")
    return values


def with_values(config: AgentConfig, values: dict[str, Any]) -> AgentConfig:
    """``config`` with the given values (None: left as it is), converted to the fields' types."""
    converted: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in _PATHS:
            converted[name] = Path(str(value)).expanduser()
        elif name == "marker" and value and not str(value).startswith("."):
            converted[name] = f".{value}"  # "done" means FILE.done / FILE.wav.done as ".done" does
        elif name == "extensions":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError("extensions は文字列の一覧です / extensions must be a list of strings")
            converted[name] = frozenset(v.lower() if v.startswith(".") else f".{v.lower()}" for v in value)
        else:
            converted[name] = value
    try:
        return replace(config, **converted)
    except TypeError as error:
        raise ConfigError(f"設定の値が正しくありません / bad setting: {error}") from None
