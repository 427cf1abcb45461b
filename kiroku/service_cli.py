"""Service commands: ``kiroku serve``, ``kiroku worker``, ``kiroku user add``, ``kiroku token add``,
``kiroku device add`` and ``kiroku device push`` (a meeting-room device's upload)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from service.models import Kind, Role

user_app = typer.Typer(help="利用者の管理 / manage user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API トークン / bearer tokens for scripts.", no_args_is_help=True)
device_app = typer.Typer(help="会議室の録音機器 / meeting-room devices.", no_args_is_help=True)


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def serve(
    host: Annotated[str | None, typer.Option(help="待ち受けアドレス [env KIROKU_HOST; 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="ポート [env KIROKU_PORT; 8000]")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="API だけを起動 / API only")] = False,
    log_level: Annotated[str, typer.Option(help="debug | info | warning")] = "info",
) -> None:
    """サービスを起動します (API・画面・ワーカー) / Start the service: API, web pages and a worker."""
    import uvicorn

    from kiroku.webapp import build_app
    from service.bootstrap import prepare
    from service.settings import get_settings

    _logging(log_level)
    settings = get_settings()
    first = prepare(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    url = (
        settings.public_url
        or f"http://{'localhost' if bind_host in ('127.0.0.1', '0.0.0.0') else bind_host}:{bind_port}"
    )
    typer.echo(f"kiroku: {url}/ で待ち受けます (API: {url}/docs)")
    if first is not None:
        typer.echo(f"kiroku: 最初の管理者を作成しました / first admin: {first.name}  password: {first.password}")
        typer.echo("kiroku: ログイン後にパスワードを控え、必要なら利用者を追加してください (kiroku user add)")
    worker: subprocess.Popen[bytes] | None = None
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again once its own handler is
    # gone: with the default action that ends this process at once, before the worker is stopped, and
    # the worker would go on running with no API. This handler turns it into a normal return.
    signal.signal(signal.SIGTERM, _stop_requested)
    try:
        if not no_worker:
            # The worker inherits this environment and working directory, so it reads the same settings.
            worker = subprocess.Popen([sys.executable, "-m", "kiroku", "worker", "--log-level", log_level])
        app = build_app(upkeep=True, settings=settings)
        uvicorn.run(app, host=bind_host, port=bind_port, log_level=log_level, access_log=False)
    except (_StopRequested, KeyboardInterrupt):
        pass
    finally:
        if worker is not None:
            _stop_worker(worker)
    typer.echo("kiroku: 停止しました / stopped")


class _StopRequested(Exception):
    """SIGTERM reached ``kiroku serve``."""


def _stop_requested(signum: int, frame: object) -> None:
    raise _StopRequested


WORKER_STOP_SECONDS = 30.0


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the worker finishes the job it is running, then exits (Celery's warm shutdown). One
    still busy after ``WORKER_STOP_SECONDS`` is killed; its job is re-queued when its heartbeat stops
    (as after a power cut), so nothing is lost either way."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut this short
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def worker(
    log_level: Annotated[str, typer.Option(help="debug | info | warning")] = "info",
) -> None:
    """ワーカーだけを起動します (GPU サーバーなど) / Run a worker alone (e.g. on a GPU box)."""
    from service.settings import get_settings
    from worker.tasks import run_worker

    _logging(log_level)
    run_worker(get_settings(), loglevel=log_level.upper())


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="ログイン名 / login name")],
    role: Annotated[Role, typer.Option(help="clerk | manager | admin")],
    department: Annotated[str, typer.Option(help="部署名 (なければ作成) / department (created if new)")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="パスワードを標準入力から読む")] = False,
    display_name: Annotated[str, typer.Option(help="表示名 / display name")] = "",
) -> None:
    """利用者を追加します / Add a user."""
    from sqlmodel import Session

    from service.accounts import AccountError, add_user
    from service.bootstrap import prepare
    from service.db import engine_for
    from service.security import new_password
    from service.settings import get_settings

    settings = get_settings()
    prepare(settings)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password, generated = new_password(), True
    try:
        with Session(engine_for(settings.resolved_database_url())) as db:
            user = add_user(db, name, role, department, password, display_name)
    except AccountError as error:
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added user {user.name} ({user.role}, department {department})")
    if generated:
        typer.echo(f"password: {password}")


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="トークンを持つ利用者 / the user the token acts as")],
    label: Annotated[str, typer.Option(help="用途のメモ / what it is for")] = "",
) -> None:
    """API トークンを発行します (一度だけ表示) / Issue a bearer token (shown once)."""
    from sqlmodel import Session

    from service.accounts import AccountError, add_token
    from service.bootstrap import prepare
    from service.db import engine_for
    from service.settings import get_settings

    settings = get_settings()
    prepare(settings)
    try:
        with Session(engine_for(settings.resolved_database_url())) as db:
            token = add_token(db, name, label)
    except AccountError as error:
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(token)


@device_app.command("add")
def device_add(
    room: Annotated[str, typer.Argument(help="会議室などの名前 / room name")],
    department: Annotated[str, typer.Option(help="部署名 (なければ作成) / department (created if new)")],
) -> None:
    """録音機器を登録し、機器キーを表示します (一度だけ) / Register a device; its key is shown once."""
    from sqlmodel import Session

    from service.accounts import AccountError, add_device
    from service.bootstrap import prepare
    from service.db import engine_for
    from service.settings import get_settings

    settings = get_settings()
    prepare(settings)
    try:
        with Session(engine_for(settings.resolved_database_url())) as db:
            device, key = add_device(db, room, department)
    except AccountError as error:
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added device {device.name} (id {device.id}, department {department})")
    typer.echo(f"key: {key}")


@device_app.command("push")
def device_push(
    file: Annotated[Path, typer.Argument(help="録音ファイル / the recording")],
    server: Annotated[str, typer.Option(help="サーバーの URL / e.g. https://kiroku.example.jp")],
    key: Annotated[str, typer.Option(envvar="KIROKU_DEVICE_KEY", help="機器キー / device key")],
    title: Annotated[str, typer.Option(help="タイトル / title")] = "",
    kind: Annotated[Kind, typer.Option(help="会議・面談・交渉・電話 / kind of recording")] = Kind.meeting,
    recording_id: Annotated[
        str | None, typer.Option(help="機器側の録音 ID (既定: 内容の SHA-256) / device recording id")
    ] = None,
    held_at: Annotated[str | None, typer.Option(help="開催日時 ISO 8601 / when it was held")] = None,
    speakers: Annotated[int | None, typer.Option(min=1, max=20, help="話者数 / expected speakers")] = None,
    timeout: Annotated[float, typer.Option(min=1, help="1 回の通信の待ち時間 (秒) / per-request timeout")] = 60.0,
    retries: Annotated[int, typer.Option(min=0, help="続けて失敗できる回数 / retries in a row")] = 10,
    chunk_size: Annotated[int, typer.Option(min=1024, help="1 回に送るバイト数 / bytes per PATCH")] = 4 * 1024**2,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="進捗を表示しない / no progress bar")] = False,
) -> None:
    """録音をサーバーへ送ります (再開可能) / Upload a recording (resumable, tus 1.0).

    Exit codes: 0 the server has the recording (its id on stdout), 3 the file cannot be read,
    11 the key was refused, 12 the file was refused, 13 gave up after the retries,
    14 the recording id is in use for another file, 130 interrupted.
    """
    from kiroku.device_push import PushError, PushOptions, push

    options = PushOptions(
        server=server,
        key=key,
        title=title,
        kind=kind.value,
        recording_id=recording_id,
        held_at=held_at,
        speakers=speakers,
        timeout=timeout,
        retries=retries,
        chunk_size=chunk_size,
        quiet=quiet,
    )
    try:
        result = push(file, options)
    except PushError as error:
        typer.echo(f"kiroku: {error.message}", err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("kiroku: 中断しました / interrupted", err=True)
        raise typer.Exit(130) from None
    how = "既に受け付け済み / already on the server" if result.already else "受け付けました / accepted"
    typer.echo(
        f"kiroku: 録音 {result.recording_id} を{how} (status {result.status}; "
        f"sent {result.sent} of {result.size} bytes, resumed {result.resumes} times)",
        err=True,
    )
    typer.echo(str(result.recording_id))


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(device_app, name="device")
