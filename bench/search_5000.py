"""Benchmark: full-text search over 5,000 one-hour transcripts (PostgreSQL and SQLite).

    python bench/search_5000.py [--transcripts 5000] [--chars 15000] [--queries 100] [--seed 8]
                                [--backends postgresql,sqlite] [--url postgresql+psycopg://postgres@127.0.0.1/postgres]

Synthesizes one-hour meeting transcripts (about 15,000 characters each, as a clerk's meeting of an
hour comes out of the recogniser) from Japanese administrative vocabulary: every meeting has its own
few topics, places, bureaus and procedures, talks about amounts, dates and article numbers (in kanji
or Arabic numerals, as the recogniser writes them either way) and has the fillers of speech. The
text is reproducible from the seed. It goes into a scratch database the way the service stores it
(recordings, ``TranscriptRecord`` JSON, then ``service.search.index_recording`` for each, as the worker
does), all in one department: the widest scope a clerk searches.

Then it runs a fixed, seeded set of queries of the kinds clerks type (topics, places, procedures,
article numbers written 第9条 / 第九条 / ９条, dates, two-word queries, bureaus, generic words and
words that are not there) through what ``GET /api/v1/search`` does (``index_missing`` + ``search``,
one session per query), twice, and prints p50/p95 of each pass (the second pass is the warm server).
The scratch databases are removed afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.db import make_engine, migrate
from service.models import Department, Recording, TranscriptRecord
from service.search import index_missing, index_recording, search

# --- the vocabulary ------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


TOPICS = words(
    """予算 決算 補正予算 事業計画 執行状況 入札 契約 委託 補助金 交付金 負担金 使用料 手数料 歳入 歳出 基金
市債 監査 条例 規則 要綱 議案 請願 陳情 答弁 質疑 協議 報告 説明会 意見交換 アンケート 広報 ホームページ 窓口 受付
相談 申請 審査 認定 決定 通知 督促 滞納 徴収 還付 減免 猶予 分割納付 差押え 調査 点検 修繕 改修 工事 設計 維持管理
指定管理 民営化 再編 統合 移転 建替え 耐震化 バリアフリー 防災 避難訓練 備蓄 感染症 予防接種 健診 がん検診 保健指導
介護予防 見守り 地域包括ケア 子育て支援 児童虐待 不登校 学童保育 放課後 保育料 待機児童 高齢者 障がい者 ひとり親
生活困窮 就労支援 住宅 空き家 公園 道路 河川 下水道 上水道 交通 駐輪場 放置自転車 ごみ収集 リサイクル 環境保全 騒音
苦情 要望 個人情報 情報公開 文書管理 電子申請 デジタル化 システム更改 働き方改革 時間外勤務 人事評価 研修 採用 定員
組織改正 業務改善 事務分掌 会計年度任用職員 町会 自治会 商店街 観光 イベント 国際交流 スポーツ 文化 図書館 生涯学習
市民活動 ボランティア NPO 民泊 ヘルプマーク 食品衛生 飲食店営業許可 狂犬病予防 犬の登録 火葬場 墓地 斎場 防犯カメラ
街路灯 自転車通行空間 バス路線 敬老パス 地下鉄 再開発 土地区画整理 用途地域 景観 屋外広告物 開発許可 建築確認 固定資産
家屋調査 償却資産 市税事務所 口座振替 コンビニ納付 スマホ決済 電子納税 eLTAX 法人住民税 事業所税 入湯税 たばこ税
宿泊税 ふるさと納税 寄附金 企業版ふるさと納税 国民健康保険 後期高齢者医療 介護保険料 年金 生活保護 就学援助 奨学金
児童扶養手当 特別児童扶養手当 医療費助成 子ども医療費 ひとり親家庭医療費 重度障がい者医療費 予防接種健康被害
母子手帳 妊婦健診 乳幼児健診 産後ケア 一時保育 病児保育 認定こども園 幼稚園 小学校 中学校 学校給食 通学路 いじめ
スクールカウンセラー 部活動 地域移行 校区 学校選択制 夜間中学 日本語教室 多文化共生 外国人住民 在留カード"""
)
WARDS = words(
    """北区 都島区 福島区 此花区 中央区 西区 港区 大正区 天王寺区 浪速区 西淀川区 淀川区 東淀川区 東成区 生野区
旭区 城東区 鶴見区 阿倍野区 住之江区 住吉区 東住吉区 平野区 西成区"""
)
PLACES = words(
    """放出 十三 喜連瓜破 杭全 立売堀 靱本町 御幣島 柴島 遠里小野 天下茶屋 鴫野 我孫子 粉浜 百済 姫島 塚本
野田阪神 千林 京橋 天満 梅田 中之島 心斎橋 難波 九条 弁天町 築港 咲洲 夢洲 舞洲 南港 鶴橋 桃谷 寺田町 新今宮 長居
加美 瓜破 淡路 新大阪 上本町 玉造 森ノ宮 岸里 玉出 北加賀屋 平野 出戸 長原 八戸ノ里 今里 小路 緑橋 蒲生四丁目
関目 野江 都島 桜ノ宮 大阪城公園 扇町 南森町 天神橋筋六丁目 中崎町 中津 福島 野田 西九条 安治川口 桜島"""
)
DEPARTMENTS = words(
    """市民局 財政局 契約管財局 都市計画局 福祉局 健康局 こども青少年局 環境局 都市整備局 建設局 経済戦略局
危機管理室 デジタル統括室 総務局 消防局 水道局 教育委員会事務局 総務課 区民課 窓口サービス課 保険年金課 保健福祉課
生活支援課 市民協働課 政策推進課 地域課 税務課 会計管理室"""
)
PROCEDURES = words(
    """生活保護の申請 要介護認定の申請 国民健康保険の加入手続 児童手当の申請 転入届の受付 住民票の交付
課税証明書の発行 固定資産税の減免申請 粗大ごみの収集申込み マイナンバーカードの交付 保育所の入所申込み
後期高齢者医療制度の手続 特別徴収の切替え 指名競争入札の手続 随意契約の審査 印鑑登録 戸籍謄本の請求
就学援助の申請 敬老パスの交付 犬の登録申請 飲食店営業許可の更新 道路占用許可の申請"""
)
FACILITIES = words(
    """区民センター 保健福祉センター 地域包括支援センター 子ども相談センター 区役所 出張所 図書館
スポーツセンター 市営住宅 保育所 小学校 中学校 公園 避難所 老人福祉センター 子ども・子育てプラザ"""
)
FILLERS = words(
    """はい。 ええ。 そうですね。 承知しました。 ありがとうございます。 よろしくお願いします。
確認します。 なるほど。 以上です。 お願いします。 えーと、 あのー、
ちょっとよろしいですか。 はい、どうぞ。 失礼します。"""
)
MISSING = words(
    """ケースワーカー 児童相談所 選挙管理委員会 パブリックコメント 公文書館 動物愛護 ドローン 水素ステーション
カーボンニュートラル メタバース"""
)
GENERIC = ["説明", "確認", "会議", "対応", "検討"]
KANJI = "〇一二三四五六七八九"


def kanji_number(n: int) -> str:
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            out += ("" if q == 1 else KANJI[q]) + unit
    return out + (KANJI[n] if n else "") or "〇"


def zipf(rng: random.Random, items: list[str], s: float = 1.0) -> str:
    return rng.choices(items, weights=[1 / (k + 1) ** s for k in range(len(items))])[0]


def spoken_number(rng: random.Random, n: int) -> str:
    """As the recogniser writes a number it heard: Arabic mostly, kanji or full width at times."""
    roll = rng.random()
    if roll < 0.3:
        return kanji_number(n)
    if roll < 0.4:
        return str(n).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    return str(n)


class Meeting:
    """One meeting's own subjects: most of its sentences are about them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.topics = [zipf(rng, TOPICS, 0.8) for _ in range(6)]
        self.places = rng.sample(PLACES, 3) + rng.sample(WARDS, 2)
        self.departments = rng.sample(DEPARTMENTS, 2)
        self.procedures = rng.sample(PROCEDURES, 2)
        self.facilities = rng.sample(FACILITIES, 2)
        self.articles = [rng.randint(1, 60) for _ in range(3)]

    def topic(self) -> str:
        return self.rng.choice(self.topics) if self.rng.random() < 0.8 else zipf(self.rng, TOPICS, 0.8)

    def sentence(self) -> str:
        r, t = self.rng, self.topic
        place, dept = r.choice(self.places), r.choice(self.departments)
        templates: list[Callable[[], str]] = [
            lambda: f"{t()}について、{dept}から説明をお願いします。",
            lambda: (
                f"{place}の{r.choice(self.facilities)}における{t()}の件ですが、"
                f"{spoken_number(r, r.randint(1, 900))}万円を計上しております。"
            ),
            lambda: (
                f"第{spoken_number(r, r.choice(self.articles))}条の規定に基づき、"
                f"{r.choice(self.procedures)}を行います。"
            ),
            lambda: (
                f"令和{spoken_number(r, r.randint(1, 8))}年{spoken_number(r, r.randint(1, 12))}月"
                f"{spoken_number(r, r.randint(1, 28))}日から{r.choice(self.procedures)}の受付を開始します。"
            ),
            lambda: f"{t()}の件数は前年度比で{spoken_number(r, r.randint(1, 40))}パーセント増加しました。",
            lambda: f"{place}にお住まいの方から{t()}について問い合わせがありました。",
            lambda: f"{t()}と{t()}の関係については、引き続き{dept}と協議してまいります。",
            lambda: f"{place}周辺の{t()}につきましては、地域の皆さんと連携して対応いたします。",
            lambda: f"資料の{spoken_number(r, r.randint(1, 40))}ページをご覧ください。{t()}の概要をまとめております。",
            lambda: f"{t()}に関する{t()}の見直しについて、ご意見はございますか。",
            lambda: (
                f"{t()}の進捗は予定どおりで、"
                f"{r.choice(['来月', '年度内', '秋ごろ', '次回の会議まで'])}に結果を報告します。"
            ),
            lambda: f"{dept}としては、{t()}を優先して進めたいと考えております。",
            lambda: r.choice(FILLERS) + f"{t()}の件、承知しました。",
            lambda: r.choice(FILLERS),
            lambda: r.choice(FILLERS),
        ]
        return r.choice(templates)()


def synthesize(seed: int, chars: int) -> dict[str, Any]:
    """One meeting's transcript (kiroku.transcript/1) of about ``chars`` characters."""
    rng = random.Random(seed)
    meeting = Meeting(rng)
    speakers = [f"S{k}" for k in range(1, rng.randint(3, 7))]
    segments: list[dict[str, Any]] = []
    clock = total = 0.0
    while total < chars:
        line = "".join(meeting.sentence() for _ in range(rng.choice((1, 1, 2, 3))))
        seconds = len(line) * 0.24
        segments.append(
            {"start": round(clock, 2), "end": round(clock + seconds, 2), "speaker": rng.choice(speakers), "text": line}
        )
        clock += seconds + rng.uniform(0.2, 1.5)
        total += len(line)
    return {
        "schema": "kiroku.transcript/1",
        "duration": round(clock, 2),
        "language": "ja",
        "speakers": [{"id": s} for s in speakers],
        "segments": segments,
        "model": "synthetic",
    }


def queries(seed: int, count: int) -> list[tuple[str, str]]:
    """(kind, query): the mix of what clerks look for."""
    rng = random.Random(seed)

    def article() -> str:
        n = rng.randint(1, 60)
        return rng.choice([f"第{n}条", f"第{kanji_number(n)}条", f"{n}条", spoken_number(rng, n) + "条"])

    def date() -> str:
        return f"令和{spoken_number(rng, rng.randint(1, 8))}年{spoken_number(rng, rng.randint(1, 12))}月"

    mix: list[tuple[str, int, Callable[[], str]]] = [
        ("topic", 30, lambda: zipf(rng, TOPICS, 0.8)),
        ("place", 15, lambda: rng.choice(PLACES + WARDS)),
        ("procedure", 10, lambda: rng.choice(PROCEDURES)),
        ("article", 10, article),
        ("two words", 10, lambda: f"{zipf(rng, TOPICS, 0.8)} {rng.choice(PLACES)}"),
        ("date", 5, date),
        ("bureau", 5, lambda: rng.choice(DEPARTMENTS)),
        ("generic", 5, lambda: rng.choice(GENERIC)),
        ("absent", 10, lambda: rng.choice(MISSING)),
    ]
    out = [(kind, make()) for kind, n, make in mix for _ in range(n)]
    rng.shuffle(out)
    return out[:count]


# --- the run -------------------------------------------------------------------------------------


def seed_database(engine: Engine, transcripts: int, chars: int, seed: int) -> tuple[int, float]:
    """Recordings with stored transcripts, then each indexed as the worker does. Returns (department, s)."""
    with Session(engine) as db:
        department = Department(name="北区役所 保健福祉課")
        db.add(department)
        db.commit()
        assert department.id is not None
        department_id = department.id
    start = datetime(2024, 4, 1, tzinfo=UTC)
    batch = 100
    for offset in range(0, transcripts, batch):
        recordings, stored = [], []
        for index in range(offset, min(transcripts, offset + batch)):
            body = synthesize(seed * 1_000_003 + index, chars)
            at = start + timedelta(hours=8 * index)
            recordings.append(
                {
                    "id": index + 1,
                    "department_id": department_id,
                    "kind": "meeting",
                    "title": f"定例会議 第{index + 1}回",
                    "created_at": at,
                    "duration_seconds": body["duration"],
                    "dictionary_ids": [],
                }
            )
            stored.append({"recording_id": index + 1, "body": body, "model": "synthetic", "created_at": at})
        with engine.begin() as conn:
            conn.execute(insert(Recording), recordings)
            conn.execute(insert(TranscriptRecord), stored)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('recording_id_seq', (SELECT max(id) FROM recording))"))
    started = time.perf_counter()
    with Session(engine) as db:
        for recording_id in range(1, transcripts + 1):
            assert index_recording(db, recording_id)
            if recording_id % 500 == 0:
                print(f"  indexed {recording_id} ({time.perf_counter() - started:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return department_id, seconds


def run_queries(engine: Engine, department_id: int, asked: list[tuple[str, str]]) -> list[tuple[str, str, float, int]]:
    timings = []
    for kind, query in asked:
        started = time.perf_counter()
        with Session(engine) as db:  # what one request of GET /api/v1/search does
            index_missing(db, [department_id])
            found = search(db, query, [department_id], limit=20)
            db.commit()
        timings.append((kind, query, time.perf_counter() - started, int(found["total"])))
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def scratch(backend: str, url: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kiroku-search-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"kiroku_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transcripts", type=int, default=5000)
    parser.add_argument("--chars", type=int, default=15_000, help="characters per one-hour transcript")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    args = parser.parse_args()
    asked = queries(args.seed, args.queries)
    rows = []
    for backend in args.backends.split(","):
        with scratch(backend, args.url) as url:
            migrate(url)
            engine = make_engine(url)
            print(f"{backend}: synthesizing and indexing {args.transcripts} transcripts …", flush=True)
            department_id, seconds = seed_database(engine, args.transcripts, args.chars, args.seed)
            print(f"{backend}: indexed in {seconds:.0f} s ({seconds / args.transcripts * 1000:.0f} ms per transcript)")
            passes = [run_queries(engine, department_id, asked) for _ in range(2)]
            engine.dispose()
        for number, timings in enumerate(passes, start=1):
            ms = [t[2] * 1000 for t in timings]
            rows.append((backend, number, statistics.median(ms), percentile(ms, 0.95), max(ms)))
        slowest = sorted(passes[1], key=lambda t: -t[2])[:5]
        shown = ", ".join(f"{q} [{k}] {t * 1000:.0f} ms, {n} found" for k, q, t, n in slowest)
        print(f"{backend}: slowest (warm): {shown}")
        found = [t[3] for t in passes[1]]
        print(f"{backend}: recordings found per query: median {statistics.median(found):.0f}, max {max(found)}")
    print(f"\n{args.transcripts:,} transcripts × ~{args.chars:,} characters, {len(asked)} queries (seed {args.seed})")
    print("| database | pass | p50 | p95 | max |\n| --- | --- | --- | --- | --- |")
    for backend, number, p50, p95, top in rows:
        label = "cold" if number == 1 else "warm"
        print(f"| {backend} | {label} | {p50:.1f} ms | {p95:.1f} ms | {top:.0f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
