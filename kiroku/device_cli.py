"""``kiroku device watch``: the meeting-room agent's command (``kiroku.device_agent``).

Light: importing this (and running ``--help``) needs only the base install, ``kiroku[device]``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from kiroku.device_agent.config import (
    AFTER_CHOICES,
    ConfigError,
    default_config_path,
    load_config,
    with_values,
)
from service.vocabulary import Kind

WATCH_EPILOG = (
    "設定ファイル (既定: Linux は /etc/kiroku/device.toml、Windows は %ProgramData%\\kiroku\\device.toml) の値を、"
    "コマンドラインで指定した値が上書きします。詳しくは docs/device_agent.md。\n\n"
    "終了コード / exit codes: 0 停止した (--once: すべて送信済み) / stopped; 2 設定の誤り / bad setting; "
    "3 フォルダーがない / no folder; 11 機器キーが拒否された / key refused; "
    "12 (--once) 拒否されたファイルがある / some files were refused."
)


def watch(
    folder: Annotated[
        Path | None, typer.Argument(help="録音が置かれるフォルダー (サブフォルダーも) / folder to watch")
    ] = None,
    server: Annotated[str | None, typer.Option(help="サーバーの URL / e.g. https://kiroku.example.jp")] = None,
    key: Annotated[str | None, typer.Option(envvar="KIROKU_DEVICE_KEY", help="機器キー / device key")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="設定ファイル (TOML) / config file [default: see below]")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="状態データベースの置き場所 / where the agent keeps its state")
    ] = None,
    log_file: Annotated[Path | None, typer.Option(help="ログファイル (標準エラーにも出力) / also log here")] = None,
    room: Annotated[str | None, typer.Option(help="部屋の名前 ({部屋}) / room name for titles")] = None,
    kind: Annotated[Kind | None, typer.Option(help="録音の種類 / kind of recording [meeting]")] = None,
    title: Annotated[str | None, typer.Option(help="タイトルの書式 / title pattern [「{部屋} {日付} 会議」]")] = None,
    speakers: Annotated[int | None, typer.Option(min=1, max=20, help="話者数 / expected speakers")] = None,
    stable_seconds: Annotated[
        float | None, typer.Option(help="大きさと時刻がこの秒数変わらなければ完成 / seconds unchanged [60]")
    ] = None,
    marker: Annotated[
        str | None, typer.Option(help="完了の印のファイルの拡張子 (例 .done) / recorder's marker suffix")
    ] = None,
    after: Annotated[
        str | None, typer.Option(help=f"送信後のファイル / after sending: {' | '.join(AFTER_CHOICES)} [keep]")
    ] = None,
    archive_dir: Annotated[Path | None, typer.Option(help="after=archive の移動先 / archive folder")] = None,
    parallel: Annotated[int | None, typer.Option(min=1, max=4, help="同時に送る数 / sends at once [1]")] = None,
    once: Annotated[
        bool, typer.Option("--once", help="今ある録音を送り終えたら終了 / exit when nothing is left to send")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳細ログ / detailed log")] = False,
) -> None:
    """フォルダーを監視し、録音を自動で送信します / Watch a folder and send every recording (the room agent)."""
    from kiroku.device_agent.agent import EXIT_CONFIG, Agent, install_stop_signals, setup_logging

    overrides: dict[str, Any] = {
        "folder": folder,
        "server": server,
        "key": key,
        "data_dir": data_dir,
        "log_file": log_file,
        "room": room,
        "kind": kind.value if kind is not None else None,
        "title": title,
        "speakers": speakers,
        "stable_seconds": stable_seconds,
        "marker": marker,
        "after": after,
        "archive_dir": archive_dir,
        "parallel": parallel,
    }
    try:
        settings = with_values(load_config(config or default_config_path(), required=config is not None), overrides)
        settings = settings.checked()
    except ConfigError as error:
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    setup_logging(verbose, settings.log_file)
    stop = threading.Event()
    install_stop_signals(stop)
    raise typer.Exit(Agent(settings, stop).run(once=once))


def register(device_app: typer.Typer) -> None:
    device_app.command("watch", epilog=WATCH_EPILOG)(watch)
