"""``kiroku mask``: personal-data candidates of text on standard input, for scripts and checks.

One document per line (UTF-8) in, one JSON object per line out:
``{"spans": [{"start": s, "end": e, "kind": "name|address|birthdate|phone|email|mynumber|account|id|plate|other"}]}``
with character offsets into that line. The detector is the one the 公開用 copy uses
(``service.personal_data``); ``--reasons`` adds the reason shown to the clerk.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Annotated

import typer

HELP = (
    "標準入力の各行 (1行1文書) から個人情報の候補を探し、1行ごとに JSON で書き出します"
    " / personal-data candidates of each input line as one JSON object per line."
)


def mask_command(
    reasons: Annotated[bool, typer.Option("--reasons", help="候補ごとに理由も出力 / add the reasons")] = False,
) -> None:
    from service.personal_data import NlpUnavailable, detect

    source = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict", newline="")
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=True)
    try:
        for raw in source:
            line = raw.rstrip("\r\n")
            spans = []
            for candidate in detect(line):
                span: dict[str, object] = {"start": candidate.start, "end": candidate.end, "kind": candidate.kind}
                if reasons:
                    span["reason"] = candidate.reason
                spans.append(span)
            out.write(json.dumps({"spans": spans}, ensure_ascii=False) + "\n")
    except UnicodeDecodeError:
        typer.echo("kiroku: 入力が UTF-8 ではありません / input is not UTF-8", err=True)
        raise typer.Exit(2) from None
    except NlpUnavailable as error:
        typer.echo(f"kiroku: 個人情報の検出に必要な GiNZA がありません / {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        out.flush()
        out.detach()
