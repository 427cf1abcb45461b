"""The account commands as an administrator at a shell would use them: `kiroku user list|add|passwd|
deactivate|activate`, `kiroku token add|list|revoke`, `kiroku device add|list|revoke`, on a fresh
home. No command but `kiroku serve`'s first start creates the first admin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner, Result

from kiroku.cli import app

ADMIN_PASSWORD = "first-admin-secret"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh KIROKU_HOME with the embedded database, as on a new server."""
    from service.db import engine_for
    from service.settings import get_settings

    for key in ("KIROKU_DATABASE_URL", "KIROKU_BROKER_URL", "KIROKU_STORAGE_DIR", "KIROKU_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("KIROKU_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no ./.env of the developer's
    get_settings.cache_clear()
    engine_for.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()
    engine_for.cache_clear()


def kiroku(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def _session() -> Session:
    from service.db import get_engine

    return Session(get_engine())


def _password_is(name: str, password: str) -> bool:
    from service.models import User
    from service.security import verify_password

    with _session() as db:
        user = db.exec(select(User).where(User.name == name)).one()
        return verify_password(user.password_hash, password)


def _users() -> list[str]:
    return [line.split("\t")[0] for line in kiroku("user", "list").stdout.splitlines()]


def _audited() -> list[str]:
    from service.models import AuditEvent

    with _session() as db:
        return [f"{e.action} {e.detail}" for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]


def test_user_add_admin_on_a_fresh_home_creates_exactly_that_admin(home: Path) -> None:
    added = kiroku(
        "user", "add", "admin", "--role", "admin", "--department", "デジタル統括室", "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "password:" not in added.stdout  # the one chosen is never echoed
    assert _users() == ["admin"]
    assert _password_is("admin", ADMIN_PASSWORD)
    listed = kiroku("user", "list")
    assert listed.exit_code == 0 and listed.stdout.split("\t")[:4] == ["admin", "admin", "デジタル統括室", "active"]
    assert any(line.startswith("admin.user_add") and "(cli)" in line for line in _audited())


def test_other_commands_never_create_an_admin(home: Path) -> None:
    for args in (("user", "list"), ("token", "list"), ("device", "list")):
        assert kiroku(*args).exit_code == 0
    assert kiroku("device", "add", "第1会議室", "--department", "北区役所").exit_code == 0
    assert _users() == []
    assert kiroku("token", "add", "admin").exit_code == 1


def test_the_first_admins_password_can_be_changed(home: Path) -> None:
    from service.bootstrap import prepare
    from service.settings import get_settings

    first = prepare(get_settings())  # what `kiroku serve` does on its first start
    assert first is not None and _password_is("admin", first.password)
    changed = kiroku("user", "passwd", "admin", "--password-stdin", stdin="a-new-admin-password\n")
    assert changed.exit_code == 0, changed.output
    assert _password_is("admin", "a-new-admin-password") and not _password_is("admin", first.password)
    generated = kiroku("user", "passwd", "admin")
    assert generated.exit_code == 0
    shown = generated.stdout.split("password: ", 1)[1].strip()
    assert len(shown) == 16 and _password_is("admin", shown)
    too_short = kiroku("user", "passwd", "admin", "--password-stdin", stdin="short\n")
    assert too_short.exit_code == 1 and "8文字以上" in too_short.stderr
    assert kiroku("user", "passwd", "nobody", "--password-stdin", stdin="long-enough-1\n").exit_code == 1


def test_serve_shows_the_generated_password_once_on_its_terminal(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiroku.service_cli import _show_first_admin

    _show_first_admin("admin", "Gen3ratedPassw0rd", generated=True, home=home, terminal=True)
    shown = capsys.readouterr()
    assert "Gen3ratedPassw0rd" in shown.err and "Gen3ratedPassw0rd" not in shown.out
    assert "kiroku user passwd admin" in shown.err
    assert not (home / "first-admin-password.txt").exists()
    _show_first_admin("admin", "from-the-environment", generated=False, home=home, terminal=True)
    assert "from-the-environment" not in capsys.readouterr().err


def test_without_a_terminal_the_password_stays_out_of_the_log(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Under systemd or Docker stderr is the journal: the password goes to a file only the service reads."""
    from kiroku.service_cli import _show_first_admin

    _show_first_admin("admin", "Gen3ratedPassw0rd", generated=True, home=home, terminal=False)
    logged = capsys.readouterr()
    saved = home / "first-admin-password.txt"
    assert "Gen3ratedPassw0rd" not in logged.err + logged.out and str(saved) in logged.err
    assert saved.read_text(encoding="utf-8").strip() == "Gen3ratedPassw0rd"
    assert saved.stat().st_mode & 0o777 == 0o600


def test_look_alike_names_are_refused_as_the_api_refuses_them(home: Path) -> None:
    assert kiroku("user", "add", "victim", "--role", "clerk", "--department", "北区役所").exit_code == 0
    for name in ("ｖｉｃｔｉｍ", "Victim", "vіctim", "two words"):  # full-width, case, Cyrillic і, a space
        refused = kiroku("user", "add", name, "--role", "clerk", "--department", "北区役所")
        assert refused.exit_code == 1, name
        assert "kiroku:" in refused.stderr
    assert "全角" in kiroku("user", "add", "ｖｉｃｔｉｍ", "--role", "clerk", "--department", "北区役所").stderr
    assert _users() == ["victim"]


def test_deactivate_and_activate(home: Path) -> None:
    assert kiroku("user", "add", "boss", "--role", "admin", "--department", "デジタル統括室").exit_code == 0
    assert kiroku("user", "add", "hanako", "--role", "clerk", "--department", "北区役所").exit_code == 0
    last = kiroku("user", "deactivate", "boss")
    assert last.exit_code == 1 and "管理者" in last.stderr  # the only admin stays
    assert kiroku("user", "deactivate", "hanako").exit_code == 0
    states = {line.split("\t")[0]: line.split("\t")[3] for line in kiroku("user", "list").stdout.splitlines()}
    assert states == {"boss": "active", "hanako": "inactive"}
    assert kiroku("user", "activate", "hanako").exit_code == 0
    assert "hanako\tclerk\t北区役所\tactive" in kiroku("user", "list").stdout
    assert kiroku("user", "activate", "ghost").exit_code == 1


def test_tokens_are_listed_expire_and_are_revoked(home: Path) -> None:
    assert kiroku("user", "add", "robot", "--role", "clerk", "--department", "北区役所").exit_code == 0
    issued = kiroku("token", "add", "robot", "--label", "電話録音", "--days", "7")
    assert issued.exit_code == 0 and issued.stdout.startswith("kk_")
    line = kiroku("token", "list").stdout.strip()
    token_id, owner, label, state, expires = line.split("\t")[:5]
    assert (owner, label, state) == ("robot", "電話録音", "active") and expires.startswith("expires 20")
    assert kiroku("token", "list", "--user", "nobody").stdout == ""
    assert kiroku("token", "revoke", token_id).exit_code == 0
    assert "\trevoked\t" in kiroku("token", "list").stdout
    assert kiroku("token", "revoke", "999").exit_code == 1
    assert kiroku("token", "add", "robot", "--days", "0").exit_code == 2  # bad usage


def test_devices_are_listed_and_revoked(home: Path) -> None:
    added = kiroku("device", "add", "第1会議室", "--department", "北区役所")
    assert added.exit_code == 0 and "key: kd_" in added.stdout
    listed = kiroku("device", "list").stdout.strip().split("\t")
    assert listed[1:4] == ["第1会議室", "北区役所", "active"] and listed[5] == "uploads 0"
    assert kiroku("device", "revoke", listed[0]).exit_code == 0
    assert kiroku("device", "list").stdout.split("\t")[3] == "revoked"
    assert kiroku("device", "revoke", "42").exit_code == 1


@pytest.mark.parametrize(
    "command",
    [
        ("user", "list"), ("user", "add"), ("user", "passwd"), ("user", "deactivate"), ("user", "activate"),
        ("token", "add"), ("token", "list"), ("token", "revoke"), ("device", "list"), ("device", "revoke"),
    ],
)  # fmt: skip
def test_every_account_command_explains_itself(home: Path, command: tuple[str, ...]) -> None:
    shown = kiroku(*command, "--help")
    assert shown.exit_code == 0
    assert "Exit codes" in shown.stdout
