"""Service commands: ``kiroku serve``, ``kiroku worker``, ``kiroku user add``, ``kiroku token add``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Annotated

import typer

from api.models import Role

user_app = typer.Typer(help="利用者の管理 / manage user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API トークン / bearer tokens for scripts.", no_args_is_help=True)


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

    from api.bootstrap import prepare
    from api.settings import get_settings
    from kiroku.webapp import build_app

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
    worker = None
    if not no_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "kiroku", "worker", "--log-level", log_level], env=os.environ.copy()
        )
    try:
        uvicorn.run(build_app(upkeep=True), host=bind_host, port=bind_port, log_level=log_level, access_log=False)
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


def worker(
    log_level: Annotated[str, typer.Option(help="debug | info | warning")] = "info",
) -> None:
    """ワーカーだけを起動します (GPU サーバーなど) / Run a worker alone (e.g. on a GPU box)."""
    from worker.tasks import run_worker

    _logging(log_level)
    run_worker(loglevel=log_level.upper())


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

    from api.accounts import AccountError, add_user
    from api.bootstrap import prepare
    from api.db import get_engine
    from api.security import new_password
    from api.settings import get_settings

    prepare(get_settings())
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password, generated = new_password(), True
    try:
        with Session(get_engine()) as db:
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

    from api.accounts import AccountError, add_token
    from api.bootstrap import prepare
    from api.db import get_engine
    from api.settings import get_settings

    prepare(get_settings())
    try:
        with Session(get_engine()) as db:
            token = add_token(db, name, label)
    except AccountError as error:
        typer.echo(f"kiroku: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(token)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
