"""Service commands: ``kiroku serve``, ``kiroku worker``, accounts (``kiroku user list|add|passwd|
deactivate|activate``, ``kiroku token add|list|revoke``, ``kiroku device add|list|revoke``) and
``kiroku device push`` (a meeting-room device's upload)."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kiroku.device_cli import register as register_watch
from service.vocabulary import Kind, Role  # light: `kiroku device watch` runs without SQLModel

if TYPE_CHECKING:
    from sqlmodel import Session

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
        _show_first_admin(
            first.name,
            first.password,
            generated=not settings.admin_password.get_secret_value(),
            home=settings.data_dir(),
            terminal=sys.stderr.isatty(),
        )
    worker: subprocess.Popen[bytes] | None = None
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again once its own handler is
    # gone: with the default action that ends this process at once, before the worker is stopped, and
    # the worker would go on running with no API. This handler turns it into a normal return.
    signal.signal(signal.SIGTERM, _stop_requested)
    try:
        if not no_worker:
            # The worker inherits this environment and working directory, so it reads the same settings.
            worker = subprocess.Popen([sys.executable, "-m", "kiroku", "worker", "--log-level", log_level])
        app = build_app(upkeep=True, settings=settings, warm_up=settings.warm_up_personal_data)
        # What is loaded by now (framework, routes, models' classes) lives as long as the server:
        # the garbage collector's full passes, which hold every request up, need not walk it again.
        gc.collect()
        gc.freeze()
        uvicorn.run(app, host=bind_host, port=bind_port, log_level=log_level, access_log=False)
    except (_StopRequested, KeyboardInterrupt):
        pass
    finally:
        if worker is not None:
            _stop_worker(worker)
    typer.echo("kiroku: 停止しました / stopped")


FIRST_ADMIN_FILE = "first-admin-password.txt"


def _show_first_admin(name: str, password: str, generated: bool, home: Path, terminal: bool) -> None:
    """Once, at the first start, never through the logging handlers. A generated password goes to
    the terminal (stderr) when there is one; under systemd or Docker stderr is a log that stays, so
    it goes instead to a file only the service's user can read, and the log names the file."""
    typer.echo(f"kiroku: 最初の管理者を作成しました / first admin created: {name}", err=True)
    if generated and terminal:
        typer.echo(f"kiroku: 仮パスワード / one-time password (shown once): {password}", err=True)
    elif generated:
        saved = home / FIRST_ADMIN_FILE
        saved.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        typer.echo(
            f"kiroku: 仮パスワードは {saved} にあります。読んだら削除してください / "
            f"the one-time password is in {saved} (0600); delete it once read",
            err=True,
        )
    typer.echo(
        f"kiroku: ログインしたら「パスワード変更」で変えてください / change it after signing in "
        f"(or: kiroku user passwd {name} --password-stdin)",
        err=True,
    )


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


@contextmanager
def _accounts_db() -> Iterator[Session]:
    """The service's database, migrated, for an account command. No first admin is created here:
    only `kiroku serve`'s first start does that (or an explicit `kiroku user add`)."""
    from sqlmodel import Session

    from service.bootstrap import prepare
    from service.db import engine_for
    from service.settings import get_settings

    settings = get_settings()
    prepare(settings, first_admin=False)
    with Session(engine_for(settings.resolved_database_url())) as db:
        yield db


def _refused(error: Exception | str) -> typer.Exit:
    typer.echo(f"kiroku: {error}", err=True)
    return typer.Exit(1)


def _read_password(password_stdin: bool) -> tuple[str, bool]:
    """(password, generated): one line of stdin, or a new random one to show once."""
    from service.security import new_password

    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return new_password(), True


def _audit_cli(db: Session, action: str, detail: str) -> None:
    from service.access import audit

    audit(db, action, detail=f"{detail} (cli)")


@user_app.command("list")
def user_list() -> None:
    """利用者を一覧表示します / List users: name, role, department, active.

    Exit codes: 0 listed.
    """
    from sqlmodel import select

    from service.models import Department, User

    with _accounts_db() as db:
        departments = {d.id: d.name for d in db.exec(select(Department)).all()}
        users = db.exec(select(User).order_by(User.name)).all()
        for user in users:
            state = "active" if user.active else "inactive"
            department = departments.get(user.department_id, "")
            typer.echo(f"{user.name}\t{user.role}\t{department}\t{state}\t{user.display_name}")
    if not users:
        typer.echo("kiroku: 利用者はいません / no users (kiroku user add …)", err=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="ログイン名 (半角英数字と . _ @ -) / login name")],
    role: Annotated[Role, typer.Option(help="clerk | manager | admin")],
    department: Annotated[str, typer.Option(help="部署名 (なければ作成) / department (created if new)")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="パスワードを標準入力から読む")] = False,
    display_name: Annotated[str, typer.Option(help="表示名 / display name")] = "",
) -> None:
    """利用者を追加します (パスワード省略時は一度だけ表示) / Add a user; a generated password is shown once.

    Exit codes: 0 added, 1 refused (name in use or not allowed, password too short), 2 bad usage.
    """
    from service.accounts import AccountError, add_user, check_user_name

    try:
        check_user_name(name)  # before asking for a password
        password, generated = _read_password(password_stdin)
        with _accounts_db() as db:
            user = add_user(db, name, role, department, password, display_name)
            _audit_cli(db, "admin.user_add", f"user {user.id} role {role.value}")
    except AccountError as error:
        raise _refused(error) from None
    typer.echo(f"added user {name} ({role.value}, department {department})")
    if generated:
        typer.echo(f"password: {password}")


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="ログイン名 / login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="新しいパスワードを標準入力から読む")
    ] = False,
) -> None:
    """パスワードを変更します (省略時は新しいパスワードを一度だけ表示) / Set a user's password.

    The user's sessions end. Exit codes: 0 changed, 1 refused (no such user, password too short).
    """
    from service.accounts import AccountError, set_password, user_named

    try:
        with _accounts_db() as db:
            user = user_named(db, name)
            password, generated = _read_password(password_stdin)
            set_password(db, user, password)
            _audit_cli(db, "admin.user_password_reset", f"user {user.id}")
    except AccountError as error:
        raise _refused(error) from None
    typer.echo(f"password changed for {name}")
    if generated:
        typer.echo(f"password: {password}")


def _set_active(name: str, active: bool) -> None:
    from service.accounts import AccountError, set_active, user_named

    try:
        with _accounts_db() as db:
            user = user_named(db, name)
            set_active(db, user, active)
            _audit_cli(db, "admin.user_activate" if active else "admin.user_deactivate", f"user {user.id}")
    except AccountError as error:
        raise _refused(error) from None
    typer.echo(f"{'activated' if active else 'deactivated'} user {name}")


@user_app.command("deactivate")
def user_deactivate(name: Annotated[str, typer.Argument(help="ログイン名 / login name")]) -> None:
    """利用者を無効にします (すぐにログアウト) / Deactivate a user: signed out, tokens refused.

    Exit codes: 0 done, 1 refused (no such user, the last active admin).
    """
    _set_active(name, False)


@user_app.command("activate")
def user_activate(name: Annotated[str, typer.Argument(help="ログイン名 / login name")]) -> None:
    """無効にした利用者を戻します / Reactivate a user.

    Exit codes: 0 done, 1 no such user.
    """
    _set_active(name, True)


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="トークンを持つ利用者 / the user the token acts as")],
    label: Annotated[str, typer.Option(help="用途のメモ / what it is for")] = "",
    days: Annotated[
        float | None,
        typer.Option(min=0.001, max=3660, help="有効期間 (日) / lifetime [KIROKU_API_TOKEN_DAYS; 365]"),
    ] = None,
) -> None:
    """API トークンを発行します (一度だけ表示) / Issue a bearer token (shown once).

    Exit codes: 0 issued, 1 refused (no such user, or inactive).
    """
    from service.accounts import AccountError, add_token
    from service.settings import get_settings

    try:
        with _accounts_db() as db:
            token = add_token(db, name, label, days if days is not None else get_settings().api_token_days)
            _audit_cli(db, "admin.token_add", f"user {name}")
    except AccountError as error:
        raise _refused(error) from None
    typer.echo(token)


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="この利用者のものだけ / only this user's")] = None,
) -> None:
    """API トークンを一覧表示します / List tokens: id, owner, label, state, expiry, last use.

    Exit codes: 0 listed.
    """
    from service.accounts import list_tokens, token_usable

    with _accounts_db() as db:
        rows = list_tokens(db, user)
    for row in rows:
        token = row.token
        state = "revoked" if token.revoked else "active" if token_usable(token) else "expired"
        expires = token.expires_at.isoformat(timespec="minutes") if token.expires_at else "-"
        used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "-"
        typer.echo(f"{token.id}\t{row.owner}\t{token.label or '-'}\t{state}\texpires {expires}\tlast used {used}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="トークンの番号 (token list) / token id")]) -> None:
    """API トークンを無効にします / Revoke a token: refused from the next request.

    Exit codes: 0 revoked, 1 no such token.
    """
    from service.access import valid_id
    from service.accounts import revoke_token
    from service.models import ApiToken

    with _accounts_db() as db:
        token = db.get(ApiToken, token_id) if valid_id(token_id) else None
        if token is None:
            raise _refused(f"トークン {token_id} はありません。")
        revoke_token(db, token)
        _audit_cli(db, "admin.token_revoke", f"token {token_id}")
    typer.echo(f"revoked token {token_id}")


@device_app.command("add")
def device_add(
    room: Annotated[str, typer.Argument(help="会議室などの名前 / room name")],
    department: Annotated[str, typer.Option(help="部署名 (なければ作成) / department (created if new)")],
) -> None:
    """録音機器を登録し、機器キーを表示します (一度だけ) / Register a device; its key is shown once.

    Exit codes: 0 registered, 1 refused.
    """
    from service.accounts import AccountError, add_device

    try:
        with _accounts_db() as db:
            device, key = add_device(db, room, department)
            device_id = device.id
            _audit_cli(db, "admin.device_add", f"device {device_id}")
    except AccountError as error:
        raise _refused(error) from None
    typer.echo(f"added device {room.strip()} (id {device_id}, department {department})")
    typer.echo(f"key: {key}")


@device_app.command("list")
def device_list() -> None:
    """録音機器を一覧表示します / List devices: id, name, department, state, last seen, uploads.

    Exit codes: 0 listed.
    """
    from sqlmodel import col, select

    from service.accounts import device_uploads
    from service.models import Department, Device

    with _accounts_db() as db:
        departments = {d.id: d.name for d in db.exec(select(Department)).all()}
        uploads = device_uploads(db)
        for device in db.exec(select(Device).order_by(col(Device.id))).all():
            seen = device.last_seen_at.isoformat(timespec="minutes") if device.last_seen_at else "-"
            state = "active" if device.active else "revoked"
            typer.echo(
                f"{device.id}\t{device.name}\t{departments.get(device.department_id, '')}\t{state}"
                f"\tlast seen {seen}\tuploads {uploads.get(device.id or 0, 0)}"
            )


@device_app.command("revoke")
def device_revoke(device_id: Annotated[int, typer.Argument(help="機器の番号 (device list) / device id")]) -> None:
    """録音機器のキーを無効にします / Revoke a device's key: its uploads are refused.

    Exit codes: 0 revoked, 1 no such device.
    """
    from service.access import valid_id
    from service.accounts import revoke_device
    from service.models import Device

    with _accounts_db() as db:
        device = db.get(Device, device_id) if valid_id(device_id) else None
        if device is None:
            raise _refused(f"機器 {device_id} はありません。")
        revoke_device(db, device)
        _audit_cli(db, "admin.device_revoke", f"device {device_id}")
    typer.echo(f"revoked device {device_id}")


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
    register_watch(device_app)
    app.add_typer(device_app, name="device")
