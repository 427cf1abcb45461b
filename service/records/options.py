"""How one record is written: choices of the person exporting it, shared by the built-in layout
and the administrators' Word templates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordOptions:
    timestamps: bool = False  # [00:01:23] after each speaker's name
    publication: bool = False  # 公開用: marked in the header and the footer
