"""Terminology dictionaries through the REST API: scopes, terms, CSV import and export, audit.

(The role × endpoint statuses are in test_access_matrix.py; here is what the endpoints do.)
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from dictionaries.csv_io import parse_csv
from dictionaries.terms import Term
from service.dictionaries import terms_for
from service.models import AuditEvent, Department, DictionaryTerm, Recording, User
from tests.service.conftest import World

D = "/api/v1/dictionaries"
KITA, ZAISEI = "北区役所 保健福祉課", "財政局 税務部"


def _create(client: TestClient, name: str, **body: Any) -> dict[str, Any]:
    response = client.post(D, json={"name": name, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _import(client: TestClient, dictionary_id: int, data: bytes, mode: str | None = None) -> Any:
    form = {"mode": mode} if mode else {}
    return client.post(f"{D}/{dictionary_id}/import", files={"file": ("用語.csv", data, "text/csv")}, data=form)


def _departments(world: World) -> dict[str, int]:
    with Session(world.engine) as db:
        return {d.name: d.id for d in db.exec(select(Department)).all() if d.id is not None}


def test_scopes_listing_and_creation_rules(world: World) -> None:
    departments = _departments(world)
    clerk, admin = world.client("clerk_kita"), world.client("root_admin")
    seeded = clerk.get(D).json()  # the city's standard dictionary, shipped with kiroku: read-only for clerks
    assert [(d["name"], d["city_wide"], d["editable"]) for d in seeded] == [("大阪市 標準辞書", True, False)]
    assert seeded[0]["term_count"] > 100

    mine = _create(clerk, " 保健福祉用語 ")
    assert mine["name"] == "保健福祉用語" and not mine["city_wide"] and mine["department"] == KITA
    assert mine["department_id"] == departments[KITA] and mine["editable"] and mine["term_count"] == 0
    city = _create(admin, "大阪市共通", city_wide=True)
    assert city["city_wide"] and city["department_id"] is None and city["department"] == ""
    theirs = _create(admin, "税務用語", department_id=departments[ZAISEI])
    assert theirs["department"] == ZAISEI

    names = {name: [d["name"] for d in world.client(name).get(D).json()] for name in ("clerk_kita", "clerk_zaisei")}
    assert names == {
        "clerk_kita": ["大阪市 標準辞書", "大阪市共通", "保健福祉用語"],
        "clerk_zaisei": ["大阪市 標準辞書", "大阪市共通", "税務用語"],
    }
    every = admin.get(D).json()
    assert [d["name"] for d in every] == ["大阪市 標準辞書", "大阪市共通", "保健福祉用語", "税務用語"]
    assert all(d["editable"] for d in every)
    seen_by_clerk = {d["name"]: d["editable"] for d in clerk.get(D).json()}
    assert seen_by_clerk == {"大阪市 標準辞書": False, "大阪市共通": False, "保健福祉用語": True}

    manager = world.client("manager_kita")
    assert manager.post(D, json={"name": "x", "city_wide": True}).status_code == 403
    refused = clerk.post(D, json={"name": "x", "department_id": departments[ZAISEI]})
    assert refused.status_code == 403
    assert clerk.post(D, json={"name": "x", "department_id": 99999}).status_code == 403  # existence not revealed
    assert admin.post(D, json={"name": "x", "department_id": 99999}).status_code == 422
    assert admin.post(D, json={"name": "x", "city_wide": True, "department_id": departments[KITA]}).status_code == 422
    assert clerk.post(D, json={"name": "   "}).status_code == 422
    assert clerk.post(D, json={"name": ""}).status_code == 422
    duplicate = manager.post(D, json={"name": "保健福祉用語"})
    assert duplicate.status_code == 409 and "既にあります" in duplicate.json()["detail"]
    assert admin.post(D, json={"name": "大阪市共通", "city_wide": True}).status_code == 409
    _create(world.client("clerk_zaisei"), "保健福祉用語")  # the same name in another department is another one

    # Another department's dictionary cannot be used for an upload, nor seen.
    assert clerk.get(f"{D}/{theirs['id']}").status_code == 404
    assert clerk.get(f"{D}/{theirs['id']}/export").status_code == 404
    assert clerk.get(f"{D}/{city['id']}").json()["editable"] is False


def test_terms_are_added_edited_and_deleted(world: World) -> None:
    clerk = world.client("clerk_kita")
    dictionary = _create(clerk, "地名")
    terms = f"{D}/{dictionary['id']}/terms"

    added = clerk.post(
        terms,
        json={"term": " 杭全 ", "reading": "クマタ", "aliases": [" 熊田 ", "熊田", "杭全", ""], "category": "地名"},
    )
    assert added.status_code == 201, added.text
    kumata = added.json()
    assert kumata == {"id": kumata["id"], "term": "杭全", "reading": "くまた", "aliases": ["熊田"], "category": "地名"}
    hanaten = clerk.post(terms, json={"term": "放出", "reading": "ﾊﾅﾃﾝ"}).json()
    assert hanaten["reading"] == "はなてん" and hanaten["aliases"] == []

    bad_reading = clerk.post(terms, json={"term": "平野区", "reading": "平野"})
    assert bad_reading.status_code == 422 and "ひらがなかカタカナ" in bad_reading.json()["detail"]
    bad_alias = clerk.post(terms, json={"term": "平野区", "aliases": ["ひらの|区"]})
    assert bad_alias.status_code == 422 and "「|」" in bad_alias.json()["detail"]
    assert clerk.post(terms, json={"term": "  "}).status_code == 422
    assert clerk.post(terms, json={"term": "x" * 201}).status_code == 422
    duplicate = clerk.post(terms, json={"term": "杭全", "reading": "くまた"})
    assert duplicate.status_code == 409 and "杭全" in duplicate.json()["detail"]

    edited = clerk.put(f"{terms}/{hanaten['id']}", json={"term": "放出", "reading": "はなてん", "aliases": ["花天"]})
    assert edited.status_code == 200 and edited.json()["aliases"] == ["花天"]
    clash = clerk.put(f"{terms}/{hanaten['id']}", json={"term": "杭全"})
    assert clash.status_code == 409

    shown = clerk.get(f"{D}/{dictionary['id']}").json()
    assert [t["term"] for t in shown["terms"]] == ["杭全", "放出"] and shown["term_count"] == 2
    assert [d["term_count"] for d in clerk.get(D).json() if d["id"] == dictionary["id"]] == [2]

    # The worker corrects with what the API stored.
    with Session(world.engine) as db:
        department_id = db.exec(select(User.department_id).where(User.name == "clerk_kita")).one()
        recording = Recording(department_id=department_id, dictionary_ids=[dictionary["id"]])
        assert sorted(terms_for(db, recording), key=lambda t: t.term) == [
            Term("放出", "はなてん", ("花天",), ""),
            Term("杭全", "くまた", ("熊田",), "地名"),
        ]

    # A term is addressed through its own dictionary only.
    other = _create(clerk, "部署名")
    assert clerk.put(f"{D}/{other['id']}/terms/{kumata['id']}", json={"term": "杭全"}).status_code == 404
    assert clerk.delete(f"{D}/{other['id']}/terms/{kumata['id']}").status_code == 404
    assert clerk.delete(f"{terms}/{kumata['id']}").status_code == 204
    assert clerk.delete(f"{terms}/{kumata['id']}").status_code == 404
    assert [t["term"] for t in clerk.get(f"{D}/{dictionary['id']}").json()["terms"]] == ["放出"]

    assert clerk.delete(f"{D}/{dictionary['id']}").status_code == 204
    assert clerk.get(f"{D}/{dictionary['id']}").status_code == 404
    with Session(world.engine) as db:
        left = db.exec(
            select(func.count()).select_from(DictionaryTerm).where(DictionaryTerm.dictionary_id == dictionary["id"])
        ).one()
        assert left == 0
        dictionary_events = select(AuditEvent).where(col(AuditEvent.action).startswith("dictionary."))
        events = db.exec(dictionary_events.order_by(col(AuditEvent.id))).all()
    assert [e.action for e in events] == [
        "dictionary.create",
        "dictionary.term_add",
        "dictionary.term_add",
        "dictionary.term_edit",
        "dictionary.create",
        "dictionary.term_delete",
        "dictionary.delete",
    ]
    assert all(e.user_id is not None and e.ip and "杭全" not in e.detail for e in events)
    assert events[1].detail == f"dictionary {dictionary['id']} term {kumata['id']}"


CSV_ROWS = [
    ["term", "reading", "aliases", "category"],
    ["放出", "はなてん", "花天", "地名"],  # row 2
    ["", "だれ", "", ""],  # row 3: no term
    ["天下茶屋", "てんがちゃや", "デンガチャや|天下茶や", "地名"],  # row 4
    ["平野区", "平野", "", "区"],  # row 5: the reading is not kana
    ["放出", "", "はなてん駅", ""],  # row 6: a duplicate, merged into row 2
    ["デジタル統括室", "デジタルトウカツシツ", "デジタル統括式", "部署"],  # row 7
    ["あ" * 201, "", "", ""],  # row 8: longer than the database holds
]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def test_csv_import_reports_bad_rows_by_number_in_every_encoding(world: World) -> None:
    clerk = world.client("clerk_kita")
    text = _csv(CSV_ROWS)
    for encoding in ("utf-8", "utf-8-sig"):
        dictionary = _create(clerk, f"取り込み {encoding}")
        report = _import(clerk, dictionary["id"], text.encode(encoding))
        assert report.status_code == 200, report.text
        body = report.json()
        assert (body["added"], body["updated"], body["removed"], body["skipped"]) == (3, 0, 0, 3)
        assert [(e["row"], e["text"][:8]) for e in body["errors"]] == [
            (3, "3行目: 用語が"),
            (5, "5行目: 読み「"),
            (8, "8行目: 用語が"),
        ]
        assert "ひらがなかカタカナ" in body["errors"][1]["message"] and "長すぎます" in body["errors"][2]["message"]
        assert [(w["row"], "重複" in w["message"]) for w in body["warnings"]] == [(6, True)]
        terms = {t["term"]: t for t in clerk.get(f"{D}/{dictionary['id']}").json()["terms"]}
        assert set(terms) == {"放出", "天下茶屋", "デジタル統括室"}
        assert terms["放出"]["aliases"] == ["花天", "はなてん駅"]
        assert terms["デジタル統括室"]["reading"] == "でじたるとうかつしつ"

    # Excel's Shift_JIS, with the Japanese header.
    sjis = _create(clerk, "取り込み Shift_JIS")
    japanese = "用語,読み,誤表記,分類\r\n杭全,くまた,熊田,地名\r\n住之江区,すみのえく,,区\r\n"
    report = _import(clerk, sjis["id"], japanese.encode("cp932")).json()
    assert (report["added"], report["skipped"]) == (2, 0)
    assert [t["term"] for t in clerk.get(f"{D}/{sjis['id']}").json()["terms"]] == ["杭全", "住之江区"]

    # Merge (default): new terms added, known ones get the new aliases; nothing is blanked.
    merge = "term,reading,aliases,category\r\n杭全,,くまた町,\r\n住之江区,すみのえく,,区\r\n平野区,ひらのく,,区\r\n"
    report = _import(clerk, sjis["id"], merge.encode()).json()
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (1, 1, 1, 0)
    terms = {t["term"]: t for t in clerk.get(f"{D}/{sjis['id']}").json()["terms"]}
    assert terms["杭全"] == {**terms["杭全"], "reading": "くまた", "aliases": ["熊田", "くまた町"], "category": "地名"}

    # Replace: the dictionary becomes the file.
    report = _import(clerk, sjis["id"], "term,reading\r\n平野区,ヒラノク\r\n".encode(), mode="replace").json()
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (0, 1, 0, 2)
    assert clerk.get(f"{D}/{sjis['id']}").json()["terms"][0] == {
        **clerk.get(f"{D}/{sjis['id']}").json()["terms"][0],
        "term": "平野区",
        "reading": "ひらのく",
        "aliases": [],
        "category": "",
    }
    empty = _import(clerk, sjis["id"], "term,reading\r\n,よみ\r\n".encode(), mode="replace")
    assert empty.status_code == 422 and "2行目" in empty.json()["detail"]
    assert clerk.get(f"{D}/{sjis['id']}").json()["term_count"] == 1  # nothing was wiped

    # Files that cannot be read at all.
    no_header = _import(clerk, sjis["id"], "放出,はなてん\r\n".encode())
    assert no_header.status_code == 422 and "見出し" in no_header.json()["detail"]
    not_text = _import(clerk, sjis["id"], bytes(range(128, 256)) * 4)
    assert not_text.status_code == 422 and "文字コード" in not_text.json()["detail"]
    assert _import(clerk, sjis["id"], b"").status_code == 422
    too_big = _import(clerk, sjis["id"], b"term\r\n" + b"a" * (10 * 1024 * 1024))
    assert too_big.status_code == 413
    assert _import(clerk, sjis["id"], b"term\r\nx\r\n", mode="append").status_code == 422

    with Session(world.engine) as db:
        imports = db.exec(
            select(AuditEvent).where(AuditEvent.action == "dictionary.import").order_by(col(AuditEvent.id))
        ).all()
    assert len(imports) == 5  # the refused files changed nothing and are not on the trail
    assert imports[-1].detail == f"dictionary {sjis['id']} mode replace added 0 updated 1 removed 2 skipped 0"


def test_csv_export_is_utf8_with_bom_and_round_trips(world: World) -> None:
    admin = world.client("root_admin")
    city = _create(admin, "大阪市共通/用語", city_wide=True)
    rows = [
        ["term", "reading", "aliases", "category"],
        ["放出", "はなてん", "花天|放出駅", "地名"],
        ['"天下"茶屋', "", "", ""],
    ]
    assert _import(admin, city["id"], _csv(rows).encode()).json()["added"] == 2

    clerk = world.client("clerk_zaisei")  # everyone may read the city-wide dictionary
    exported = clerk.get(f"{D}/{city['id']}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    disposition = exported.headers["content-disposition"]
    assert f'filename="dictionary-{city["id"]}.csv"' in disposition
    assert "filename*=UTF-8''%E5%A4%A7%E9%98%AA%E5%B8%82%E5%85%B1%E9%80%9A%2F%E7%94%A8%E8%AA%9E.csv" in disposition
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert exported.content.decode("utf-8-sig") == _csv(rows)
    assert parse_csv(exported.content.decode("utf-8-sig")).terms == [
        Term("放出", "はなてん", ("花天", "放出駅"), "地名"),
        Term('"天下"茶屋'),
    ]

    # Round trip: a department copies the city-wide list into its own dictionary.
    own = _create(clerk, "税務部の控え")
    assert _import(clerk, own["id"], exported.content).json()["added"] == 2
    assert clerk.get(f"{D}/{own['id']}/export").content.decode("utf-8-sig") == _csv(rows)
    assert clerk.post(f"{D}/{city['id']}/import", files={"file": ("a.csv", exported.content)}).status_code == 403
    empty = _create(clerk, "空")
    assert clerk.get(f"{D}/{empty['id']}/export").content == "\ufeffterm,reading,aliases,category\r\n".encode()
