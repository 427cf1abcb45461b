"""Bodies are refused before they are read: no credentials (401), no CSRF token (403), too large (413).

The reproductions of the security review: an anonymous 300 MB multipart to a CSV import or to the
recordings was spooled to disk before its 401, a 300 MB JSON login filled memory, and an announced
50 GB body was waited for. Here each request is sent straight to the ASGI app, which counts the
bytes the application actually took from the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
from sqlmodel import Session, select

from api.auth import SESSION_COOKIE
from service.models import Department
from tests.service.conftest import PASSWORD, World

MB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    read: int  # body bytes the server took in
    chunks_left: bool  # the client still had bytes to send when the answer came
    log: list[str] = field(default_factory=list)


def send(
    world: World,
    method: str,
    path: str,
    *,
    size: int,
    headers: dict[str, str] | None = None,
    declared: int | None = None,
    chunked: bool = False,
) -> Answer:
    """``size`` body bytes in 64 KB messages; ``declared``: the Content-Length said (default: ``size``)."""
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if chunked:
        raw.append((b"transfer-encoding", b"chunked"))
    else:
        raw.append((b"content-length", str(size if declared is None else declared).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("192.0.2.10", 50000),
        "server": ("testserver", 80),
    }
    state = {"sent": 0, "read": 0}
    start: dict[str, object] = {}
    body = bytearray()

    async def receive() -> dict[str, object]:
        if state["sent"] >= size:
            await anyio.sleep_forever()  # the client sends nothing more (and does not hang up)
        part = min(CHUNK, size - state["sent"])
        state["sent"] += part
        state["read"] += part
        return {"type": "http.request", "body": b"\0" * part, "more_body": state["sent"] < size}

    async def respond(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            body.extend(message.get("body", b""))  # type: ignore[arg-type]

    async def run() -> None:
        with anyio.fail_after(60):  # a hang guard only: an answer that waits for the body never comes
            await world.app(scope, receive, respond)  # type: ignore[operator]

    anyio.run(run)
    answer_headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}  # type: ignore[attr-defined]
    return Answer(int(start["status"]), answer_headers, bytes(body), state["read"], state["sent"] < size)  # type: ignore[call-overload]


def _session(world: World, user: str) -> dict[str, str]:
    """Cookie and CSRF headers of a logged-in browser."""
    client = world.client()
    login = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.cookies[SESSION_COOKIE]
    return {"cookie": f"{SESSION_COOKIE}={cookie}", "x-csrf-token": login.json()["csrf_token"]}


MULTIPART = {"content-type": "multipart/form-data; boundary=x"}


def test_anonymous_bodies_are_refused_unread(world: World) -> None:
    cases = [
        ("POST", "/api/v1/dictionaries/1/import", MULTIPART, 8 * MB),
        ("POST", "/api/v1/recordings", MULTIPART, 8 * MB),
        ("PUT", "/api/v1/recordings/1/minutes", {"content-type": "application/json"}, 8 * MB),
        ("POST", "/api/v1/admin/users", {"content-type": "application/json"}, MB),  # within the JSON limit
    ]
    for method, path, headers, size in cases:
        for chunked in (False, True):
            answer = send(world, method, path, size=size, headers=headers, chunked=chunked)
            assert answer.status == 401, (path, answer.status, answer.body[:200])
            assert answer.read == 0 and "ログイン" in answer.body.decode(), path
            assert answer.headers.get("connection") == "close"  # the unread body is not waited for


def test_a_device_upload_without_a_key_is_refused_unread(world: World) -> None:
    headers = {"content-type": "application/offset+octet-stream", "tus-resumable": "1.0.0", "upload-offset": "0"}
    answer = send(world, "PATCH", "/api/v1/uploads/" + "0" * 32, size=8 * MB, headers=headers)
    assert answer.status == 401 and answer.read == 0
    assert answer.headers["tus-resumable"] == "1.0.0" and "機器キー" in answer.body.decode()
    wrong = send(world, "PATCH", "/api/v1/uploads/" + "0" * 32, size=MB, headers={**headers, "x-device-key": "guess"})
    assert wrong.status == 401 and wrong.read == 0


def test_a_session_without_its_csrf_token_sends_no_body(world: World) -> None:
    headers = _session(world, "clerk_kita")
    del headers["x-csrf-token"]
    answer = send(world, "POST", "/api/v1/dictionaries/1/import", size=8 * MB, headers={**headers, **MULTIPART})
    assert answer.status == 403 and answer.read == 0 and "CSRF" in answer.body.decode()


def test_a_huge_login_is_cut_short(world: World) -> None:
    json = {"content-type": "application/json"}
    declared = send(world, "POST", "/api/v1/auth/login", size=300 * MB, headers=json)
    assert declared.status == 413 and declared.read == 0 and "大きすぎます" in declared.body.decode()
    streamed = send(world, "POST", "/api/v1/auth/login", size=300 * MB, headers=json, chunked=True)
    assert streamed.status == 413 and streamed.read <= 16 * 1024 + CHUNK and streamed.chunks_left


def test_an_announced_50_gb_body_is_refused_at_once(world: World) -> None:
    headers = {**_session(world, "clerk_kita"), **MULTIPART}
    answer = send(world, "POST", "/api/v1/dictionaries/1/import", size=MB, declared=50 * 1024**3, headers=headers)
    assert answer.status == 413 and answer.read == 0
    upload = send(world, "POST", "/api/v1/recordings", size=MB, declared=50 * 1024**3, headers=headers)
    assert upload.status == 413 and upload.read == 0 and "ファイルが大きすぎます" in upload.body.decode()


def test_json_bodies_have_a_global_limit(world: World) -> None:
    headers = {**_session(world, "root_admin"), "content-type": "application/json"}
    declared = send(world, "POST", "/api/v1/admin/departments", size=3 * MB, headers=headers)
    assert declared.status == 413 and declared.read == 0 and "2 MB" in declared.body.decode()
    streamed = send(world, "POST", "/api/v1/admin/departments", size=3 * MB, headers=headers, chunked=True)
    assert streamed.status == 413 and streamed.read <= 2 * MB + CHUNK and streamed.chunks_left
    # Small bodies still go through: the guard does not change what a route answers.
    admin = world.client("root_admin")
    made = admin.post("/api/v1/admin/departments", json={"name": "建設局 道路課"})
    assert made.status_code == 201, made.text
    with Session(world.engine) as db:
        assert db.exec(select(Department).where(Department.name == "建設局 道路課")).first() is not None


def test_a_signed_in_import_within_the_limit_goes_through(world: World) -> None:
    admin = world.client("root_admin")
    created = admin.post("/api/v1/dictionaries", json={"name": "確認用"})
    assert created.status_code == 201
    csv = "term,reading\n放出,はなてん\n".encode()
    imported = admin.post(
        f"/api/v1/dictionaries/{created.json()['id']}/import", files={"file": ("a.csv", csv, "text/csv")}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["added"] == 1
