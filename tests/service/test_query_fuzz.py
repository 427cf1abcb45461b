"""Out-of-range parameters are the caller's mistake (422), never a server error (500).

The reproductions from the security review, then a fuzz of the query parameters of every GET route
the OpenAPI schema lists, as an administrator (who may call them all).
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import World
from tests.service.hardening import finish, tiny_wav

# Values a parser may take but a calendar, a database column or a float cannot hold.
EDGES = [
    "0000-01",
    "0000-01-01",
    "9999-12",
    "10000-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01",
    "1e20",
    "-1e20",
    "1e400",
    "NaN",
    "inf",
    "-1",
    "0",
    str(2**63),
    str(-(2**63) - 1),
    "99999999999999999999999",
    "",
    " ",
    "\x00",
    "%",
    "ﾃｽﾄ",
    "2025-13",
    "2025-02-30",
]


def test_the_reviewed_parameters_answer_422(world: World) -> None:
    admin = world.client("root_admin")
    recording = "/api/v1/recordings"
    cases = [
        "/api/v1/usage/dashboard?month=0000-01",
        "/api/v1/usage?month=0000-01",
        "/api/v1/usage/export?start=0000-01&end=0000-02",
        "/api/v1/usage/export?start=2025-01&end=9999-12",
        "/api/v1/term-proposals?offset=1e20",
        "/api/v1/term-proposals?offset=99999999999999999999",
        f"{recording}?since=0001-01-01T00:00:00%2B14:00",
        f"{recording}?until=9999-12-31T23:59:59-14:00",
        "/api/v1/search?q=%00",
        "/api/v1/admin/tokens?owner=%00",
    ]
    for url in cases:
        response = admin.get(url)
        assert response.status_code == 422, (url, response.status_code, response.text[:300])
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", response.json()["detail"]), url


def test_a_proposal_with_a_huge_segment_number_is_refused(world: World) -> None:
    clerk = world.client("clerk_kita")
    made = clerk.post(
        "/api/v1/recordings", files={"file": ("a.wav", tiny_wav(), "audio/wav")}, data={"kind": "meeting"}
    )
    assert made.status_code == 201, made.text
    finish(world.engine, made.json()["id"])
    url = f"/api/v1/recordings/{made.json()['id']}/term-proposals"
    for field in ("segment", "start", "end"):
        body: dict[str, Any] = {"before": "花天", "after": "放出", "segment": 0, "start": 0, "end": 2}
        for value in (10**20, 1e20, 2**63):
            response = clerk.post(url, json={**body, field: value})
            assert response.status_code == 422, (field, value, response.text[:300])
    assert clerk.post(url, json={"before": "花天", "after": "放出", "segment": 0}).status_code == 201


def _get_routes(spec: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    routes = []
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        routes.append((path, operation.get("parameters", [])))
    return routes


def _fill_path(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_no_query_parameter_of_any_get_route_causes_a_server_error(world: World) -> None:
    admin = world.client("root_admin")
    routes = _get_routes(admin.get("/openapi.json").json())
    assert len(routes) >= 20  # the schema lists the API (a route dropped from it is not fuzzed)
    texts = st.one_of(st.sampled_from(EDGES), st.text(max_size=30), st.integers().map(str))
    checked: list[str] = []
    for path, parameters in routes:
        names = [(p["name"], p["in"]) for p in parameters if p["in"] in ("query", "path")]
        if not names:
            continue
        checked.append(path)

        fuzz_route(admin, path, names, texts)
    assert "/api/v1/recordings" in checked and "/api/v1/usage/dashboard" in checked


def fuzz_route(admin: Any, path: str, names: list[tuple[str, str]], texts: st.SearchStrategy[str]) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(values=st.fixed_dictionaries({name: texts for name, _where in names}))
    def fuzz(values: dict[str, str]) -> None:
        in_path = {n: values[n] for n, where in names if where == "path"}
        query = {n: values[n] for n, where in names if where == "query"}
        url = _fill_path(path, {k: _segment(v) for k, v in in_path.items()})
        response = admin.get(url, params=query)
        assert response.status_code < 500, (url, query, response.status_code, response.text[:300])

    fuzz()


def _segment(value: str) -> str:
    """A path segment that stays one segment (a ``/`` would name another route)."""
    from urllib.parse import quote

    return quote(value, safe="") or "1"
