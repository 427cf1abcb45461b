"""Writes the masking evaluation corpus: lines in the style of ASR output of calls, counter talks and
meetings, with the spans of personal data (gold) and the spans that must stay unmasked (keep).

The lines are written from hand-made templates and pools (names common and rare, in kanji, hiragana
and katakana; addresses of the 24 wards of Osaka; numbers in digits, full width, kanji and kana). The
split is decided here, before any result: a line goes to tune/ when the first 8 hex digits of the
SHA-1 of its text are even, else to holdout/. Tune only on tune/.

    python -m bench.masking_corpus.make_corpus   # rewrites tune/corpus.jsonl and holdout/corpus.jsonl
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent

SURNAMES = ["田中", "佐藤", "鈴木", "高橋", "渡辺", "伊藤", "山本", "中村", "小林", "加藤", "吉田", "山田", "松本",
            "井上", "木村", "清水", "山口", "池田", "橋本", "阿部", "石川", "前田", "藤田", "岡田", "後藤", "長谷川",
            "村上", "近藤", "坂本", "遠藤", "青木", "西村", "福田", "太田", "三浦", "藤原", "岡本", "松田",
            "中川"]  # fmt: skip
RARE_SURNAMES = ["東海林", "勅使河原", "五十嵐", "長谷部", "御手洗", "九十九", "百目鬼", "薬師寺", "宇佐美", "猪狩",
                 "鬼頭", "仁科", "和久井", "栗栖", "能勢", "越智", "日下部", "轟", "鰐渕", "四十物", "小鳥遊",
                 "釈迦堂", "八月朔日", "源", "一尾", "生駒", "土居", "蔀", "雑賀"]  # fmt: skip
GIVEN = ["花子", "太郎", "健一", "美咲", "翔太", "陽子", "大輔", "由美", "誠", "恵子", "直樹", "和夫", "幸子", "拓也",
         "悠斗", "千代子", "勝", "奈々子", "美智子", "博", "清", "明美", "翼", "結衣", "蓮", "陽菜", "正男",
         "節子"]  # fmt: skip
HIRA_SURNAMES = ["やまもと", "さとう", "いとう", "なかむら", "たなか", "かとう", "よしだ", "まつもと", "きむら",
                 "はやし", "いのうえ", "しょうじ", "おかだ", "にしむら"]  # fmt: skip
HIRA_GIVEN = ["はなこ", "けんじ", "ゆうき", "みさき", "ひろし", "まさる", "さくら", "たろう", "ようこ", "かずお",
              "えみ", "しんいち", "あやか", "としこ"]  # fmt: skip
KATA_NAMES = [
    "ヤマダタロウ",
    "スズキイチロウ",
    "タナカハナコ",
    "グエン・ヴァン・ナム",
    "マリア・サントス",
    "キムミンジュ",
]
WARDS = {
    "北区": ["中之島", "梅田", "天満", "本庄東", "長柄中"], "都島区": ["東野田町", "都島本通", "友渕町"],
    "福島区": ["野田", "海老江", "鷺洲"], "此花区": ["四貫島", "春日出北", "西九条", "伝法"],
    "中央区": ["難波", "谷町", "島之内", "森ノ宮中央"], "西区": ["九条", "千代崎", "南堀江"],
    "港区": ["弁天", "市岡", "八幡屋"], "大正区": ["三軒家東", "千島", "泉尾"], "天王寺区": ["上本町", "生玉町",
           "勝山"],
    "浪速区": ["恵美須東", "日本橋", "敷津西"], "西淀川区": ["姫島", "御幣島", "大和田"],
    "淀川区": ["十三本町", "西中島", "三国本町"], "東淀川区": ["淡路", "豊新", "井高野"],
    "東成区": ["深江南", "大今里", "中道"], "生野区": ["桃谷", "勝山北", "巽東"], "旭区": ["森小路", "高殿", "千林"],
    "城東区": ["蒲生", "関目", "鴫野西"], "鶴見区": ["今津南", "放出東", "横堤"], "阿倍野区": ["昭和町",
            "阪南町", "王子町"],
    "住之江区": ["北加賀屋", "粉浜", "南港中"], "住吉区": ["長居", "我孫子", "帝塚山中"],
    "東住吉区": ["駒川", "針中野", "杭全"], "平野区": ["喜連", "加美北", "瓜破"], "西成区": ["岸里", "天下茶屋",
             "玉出西"],
}  # fmt: skip
KANJI = "〇一二三四五六七八九"
KANA = ["ぜろ", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう"]
KATA = ["ゼロ", "イチ", "ニー", "サン", "ヨン", "ゴー", "ロク", "ナナ", "ハチ", "キュウ"]
TITLES = ["財政局財政課長", "財政課長", "委員A", "委員B", "委員C", "委員長", "福祉局長", "区長", "保護課長", "係長",
          "副区長", "担当係長", "市民協働課長"]  # fmt: skip
DEPTS = ["保護課", "福祉局", "財政局", "市民協働課", "保健福祉センター", "区民課", "建設局", "環境局", "こども青少年局",
         "生活支援課", "保険年金課", "窓口サービス課"]  # fmt: skip
FACILITIES = ["中央図書館", "此花区民ホール", "大阪市立総合医療センター", "長居公園", "扇町プール", "中央公会堂",
              "西成区民センター", "大阪城ホール", "鶴見緑地", "天王寺動物園"]  # fmt: skip
COMPANIES = ["株式会社大阪建設", "関西電力", "大和ハウス工業", "株式会社なにわ設備", "西日本電信電話", "大成建設",
             "株式会社淀川エンジニアリング", "近畿日本鉄道"]  # fmt: skip
OFFICE_PHONES = ["06-6208-7111", "06-6466-9818", "06-4302-9876", "06-6647-9600", "0120-123-456"]


class Line:
    def __init__(self, kind_of_call: str) -> None:
        self.text = ""
        self.spans: list[dict[str, object]] = []
        self.keep: list[dict[str, object]] = []
        self.call = kind_of_call

    def say(self, part: str) -> Line:
        self.text += part
        return self

    def pd(self, part: str, kind: str) -> Line:
        self.spans.append({"start": len(self.text), "end": len(self.text) + len(part), "kind": kind})
        self.text += part
        return self

    def stay(self, part: str, what: str) -> Line:
        self.keep.append({"start": len(self.text), "end": len(self.text) + len(part), "what": what})
        self.text += part
        return self

    def json(self) -> dict[str, object]:
        return {"text": self.text, "call": self.call, "spans": self.spans, "keep": self.keep}


def digits_as(r: random.Random, digits: str, style: str) -> str:
    if style == "half":
        return digits
    if style == "full":
        return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if style == "kanji":
        return "".join(KANJI[int(d)] for d in digits)
    if style == "kana":
        return "".join(KANA[int(d)] for d in digits)
    return "".join(KATA[int(d)] for d in digits)


def phone(r: random.Random) -> str:
    if r.random() < 0.5:
        groups = ["0" + r.choice("9876") + "0", f"{r.randrange(10000):04d}", f"{r.randrange(10000):04d}"]
    else:
        groups = ["06", f"{r.randrange(6000, 7999):04d}", f"{r.randrange(10000):04d}"]
    style = r.choice(["half", "half", "full", "kanji", "kana", "kata"])
    sep = r.choice(["-", "の", " ", "", "ー"]) if style != "half" else r.choice(["-", "の", " ", "", "-"])
    if style in ("kana", "kata") and sep == "":
        sep = r.choice(["の", " "])
    return sep.join(digits_as(r, g, style) for g in groups)


def num(r: random.Random, lo: int, hi: int, style: str) -> str:
    n = r.randint(lo, hi)
    if style == "kanji":
        tens, ones = divmod(n, 10)
        return ("" if tens == 0 else ("十" if tens == 1 else KANJI[tens] + "十")) + (KANJI[ones] if ones else "")
    if style == "full":
        return digits_as(r, str(n), "full")
    return str(n)


def person(r: random.Random) -> tuple[str, str]:
    """(name as written, the way it is written)."""
    pick = r.random()
    if pick < 0.35:
        return r.choice(SURNAMES) + r.choice(GIVEN), "kanji"
    if pick < 0.55:
        return r.choice(RARE_SURNAMES) + r.choice(["", r.choice(GIVEN)]), "rare"
    if pick < 0.8:
        return r.choice(HIRA_SURNAMES) + r.choice(["", r.choice(HIRA_GIVEN)]), "hiragana"
    if pick < 0.9:
        return r.choice(KATA_NAMES), "katakana"
    return r.choice(SURNAMES), "surname"


def address(r: random.Random) -> str:
    ward = r.choice(list(WARDS))
    town = r.choice(WARDS[ward])
    style = r.choice(["digits", "kanji", "dashed", "spoken", "full"])
    prefix = r.choice(["", "大阪市", "大阪府大阪市"]) + ward + town
    if style == "digits":
        return f"{prefix}{r.randint(1, 6)}丁目{r.randint(1, 30)}番{r.randint(1, 25)}号"
    if style == "full":
        return f"{prefix}{num(r, 1, 6, 'full')}丁目{num(r, 1, 30, 'full')}番{num(r, 1, 25, 'full')}号"
    if style == "kanji":
        return f"{prefix}{num(r, 1, 6, 'kanji')}丁目{num(r, 1, 30, 'kanji')}番{num(r, 1, 25, 'kanji')}号"
    if style == "dashed":
        return f"{prefix}{r.randint(1, 6)}-{r.randint(1, 30)}-{r.randint(1, 25)}"
    return f"{ward}{town} {r.choice(KANA[1:7])}ちょうめ {r.choice(KANA[1:])}ばん {r.choice(KANA[1:])}ごう"


def birthdate(r: random.Random) -> str:
    era, lo, hi = r.choice([("昭和", 10, 63), ("平成", 1, 30), ("昭和", 20, 50)])
    style = r.choice(["digits", "digits", "kanji", "full"])
    if r.random() < 0.15:
        return f"西暦{r.randint(1940, 2010)}年{r.randint(1, 12)}月{r.randint(1, 28)}日"
    return f"{era}{num(r, lo, hi, style)}年{num(r, 1, 12, style)}月{num(r, 1, 28, style)}日"


FILLERS = ["えー", "あの", "えっと", "あのー", "まあ", "", "", "", "はい", "ええ"]


def f(r: random.Random) -> str:
    return r.choice(FILLERS)


def call_line(r: random.Random) -> Line:
    """A citizen's phone call or counter talk: several kinds of personal data and a staff greeting."""
    line = Line(r.choice(["phone", "interview"]))
    dept = r.choice(DEPTS)
    staff = r.choice(SURNAMES)
    opening = r.random()
    if opening < 0.5:
        line.say("はい").stay(f"{dept}の{staff}", "staff").say("です。")
    elif opening < 0.7:
        line.say("お電話ありがとうございます").stay(dept, "department").say("でございます。")
    name, _ = person(r)
    pick = r.randrange(9)
    if pick == 0:
        line.say(f"{f(r)}名前は").pd(name, "name").say("です。")
    elif pick == 1:
        line.say(f"もしもし{f(r)}").pd(name, "name").say("と申しますけれども。")
    elif pick == 2:
        line.say("わたくし").pd(name, "name").say("の母ですが息子のことで。")
    elif pick == 3:
        line.say(f"{f(r)}息子の").pd(r.choice(GIVEN + HIRA_GIVEN), "name").say("が先月から。")
    elif pick == 4:
        line.say("お名前をお願いします。").pd(name, "name").say("です。")
    elif pick == 5:
        line.say(f"{f(r)}娘の").pd(r.choice(GIVEN + HIRA_GIVEN), "name").say("のことなんですけど。")
    elif pick == 6:
        line.say("ご本人のお名前は。").say(f"{f(r)}").pd(name, "name").say("といいます。")
    elif pick == 7:
        line.say("妻の").pd(r.choice(GIVEN), "name").say("が入院しまして。")
    else:
        surname = r.choice(SURNAMES + RARE_SURNAMES)
        line.say("民生委員の").pd(surname, "name").say("さんから聞いて電話しました。")
    extra = r.sample(["address", "birthdate", "phone", "residence"], k=r.randint(1, 3))
    for kind in extra:
        if kind == "address":
            line.say(r.choice(["住所は", "ご住所は", "住所が", "えー住所は"])).pd(address(r), "address").say("です。")
        elif kind == "residence":
            ward = r.choice(list(WARDS))
            town = r.choice(WARDS[ward])
            place = r.choice([town, ward + town])
            line.say(f"{f(r)}").pd(place, "address").say(r.choice(["に住んでます。", "に住んでいます。", "在住です。"]))
        elif kind == "birthdate":
            date = birthdate(r)
            if r.random() < 0.5:
                line.say("生年月日は").pd(date, "birthdate").say("です。")
            else:
                line.pd(date, "birthdate").say("生まれです。")
        else:
            line.say(r.choice(["電話番号は", "携帯は", "連絡先は", "折り返しは", "お電話番号が"])).pd(
                phone(r), "phone"
            ).say(r.choice(["です。", "でお願いします。", "です"]))
    if r.random() < 0.3:
        line.say("こちらの受付は").stay(
            f"令和{r.randint(6, 8)}年{r.randint(1, 12)}月{r.randint(1, 28)}日", "deadline"
        ).say("までです。")
    if r.random() < 0.3:
        line.say("何かあれば").stay(dept, "department").say("の電話番号").stay(
            r.choice(OFFICE_PHONES), "office phone"
        ).say("までどうぞ。")
    return line


def numbers_line(r: random.Random) -> Line:
    line = Line(r.choice(["phone", "interview"]))
    pick = r.randrange(7)
    if pick == 0:
        d = f"{r.randrange(10**12):012d}"
        style = r.choice(["half", "full", "kanji", "kana"])
        groups = [digits_as(r, d[i : i + 4], style) for i in (0, 4, 8)]
        line.say(r.choice(["マイナンバーは", "個人番号が", "えーマイナンバーは"])).pd(
            r.choice([" ", "の", ""]).join(groups), "mynumber"
        ).say("です。")
    elif pick == 1:
        line.say(r.choice(["口座番号は", "振込先の口座番号が", "普通預金で口座番号は"])).pd(
            digits_as(r, f"{r.randrange(10**7):07d}", r.choice(["half", "full", "kanji"])), "account"
        ).say("です。")
    elif pick == 2:
        d = f"{r.randrange(4000, 4999)}{r.randrange(10**12):012d}"
        line.say("カード番号は").pd(" ".join(d[i : i + 4] for i in range(0, 16, 4)), "account").say("です。")
    elif pick == 3:
        line.say(r.choice(["被保険者番号は", "介護保険の被保険者番号が", "保険証の番号は"])).pd(
            digits_as(r, f"{r.randrange(10**8):08d}", r.choice(["half", "full", "kanji"])), "id"
        ).say("です。")
    elif pick == 4:
        line.say(r.choice(["ケース番号は", "受付番号は", "受給者番号が"])).pd(
            r.choice(["A", "B", "K", ""]) + f"{r.randrange(10**6):06d}", "id"
        ).say("になります。")
    elif pick == 5:
        local = r.choice(["yamada", "hanako.s", "taro1963", "k-suzuki", "miki_0512"])
        domain = r.choice(["gmail", "yahoo", "example", "docomo"])
        if r.random() < 0.5:
            tld = r.choice(["com", "ne.jp", "co.jp"])
            line.say("メールは").pd(f"{local}@{domain}.{tld}", "email").say("です。")
        else:
            tld = r.choice(["ドット com", "ドット ne ドット jp", "ドット co ドット jp", "ドット コム"])
            line.say(r.choice(["メールアドレスは", "アドレスは"])).pd(
                f"{local} アットマーク {domain} {tld}", "email"
            ).say("です。")
    else:
        region = r.choice(["なにわ", "大阪", "和泉", "堺", "神戸", "京都"])
        kana = r.choice("あいうえかきくけこさすせそたちつてとなにぬねのはひふほまみむめもやゆよらりるれろわ")
        plate = f"{region} {r.randint(300, 599)} {kana} {r.randint(10, 99)}-{r.randint(10, 99)}"
        line.say(r.choice(["車のナンバーは", "ナンバーが", "車は"])).pd(plate, "plate").say("です。")
    if r.random() < 0.4:
        line.say("手数料は").stay(r.choice(["1,200円", "三千円", "500円", "2万4,000円"]), "amount").say("です。")
    return line


def meeting_line(r: random.Random) -> Line:
    """Meetings and negotiations: titles, departments, wards, amounts, dates and companies must stay."""
    line = Line(r.choice(["meeting", "negotiation"]))
    pick = r.randrange(8)
    if pick == 0:
        line.stay(r.choice(TITLES), "title").say("から説明します。予算は").stay(
            r.choice(["3億4,500万円", "1億2,000万円", "8,250万円", "五千万円"]), "amount"
        ).say("です。")
    elif pick == 1:
        line.stay(r.choice(["委員A", "委員B", "委員C"]), "title").say("、").stay(r.choice(list(WARDS)), "ward").say(
            "の事業についてお伺いします。"
        )
    elif pick == 2:
        line.stay(r.choice(DEPTS), "department").say("の").stay(r.choice(SURNAMES), "staff").say(
            r.choice(["です。", "でございます。"])
        ).say("次回は").stay(f"{r.randint(1, 12)}月{r.randint(1, 28)}日", "meeting date").say("に開催します。")
    elif pick == 3:
        line.say("本件は").stay(r.choice(COMPANIES), "company").say("と協議中で、").stay(
            f"令和{r.randint(6, 8)}年{r.randint(1, 12)}月{r.randint(1, 28)}日", "deadline"
        ).say("までに回答します。")
    elif pick == 4:
        ward = r.choice(list(WARDS))
        line.stay(ward + r.choice(WARDS[ward]), "town").say("地域の").stay(r.choice(FACILITIES), "facility").say(
            "の改修工事について報告します。"
        )
    elif pick == 5:
        line.stay(r.choice(TITLES), "title").say("。").say("ただいまの件ですが").stay(
            r.choice(list(WARDS)), "ward"
        ).say("では").stay(f"{r.randint(100, 3000):,}件", "count").say("の申請がありました。")
    elif pick == 6:
        line.say("お問い合わせは").stay(r.choice(DEPTS), "department").say("、電話").stay(
            r.choice(OFFICE_PHONES), "office phone"
        ).say("までお願いします。")
    else:
        line.say("議長、").stay(r.choice(TITLES), "title").say("。").stay(
            f"令和{r.randint(5, 8)}年度", "fiscal year"
        ).say("の予算案").stay(r.choice(["第12号議案", "第3号議案"]), "bill").say("について").stay(
            r.choice(FACILITIES), "facility"
        ).say("の件です。")
    if r.random() < 0.35:
        surname = r.choice(SURNAMES + RARE_SURNAMES)
        line.say("なお、公募").say(r.choice(["委員の", "市民の", "町会長の"])).pd(surname, "name").say(
            r.choice(["さんから", "様から"])
        ).say("意見がありました。")
    return line


def split_line(r: random.Random) -> Line:
    """A name or number cut by a backchannel or a speaker change (utterances joined as the ASR wrote them)."""
    line = Line("phone")
    surname = r.choice(SURNAMES + RARE_SURNAMES)
    given = r.choice(GIVEN)
    if r.random() < 0.5:
        cut = given[:1] + " " + given[1:] if len(given) > 1 else given  # an ASR space inside the given name
        line.say("名前は").pd(surname + cut, "name").say("です。")
    else:
        line.say(f"{f(r)}").pd(surname, "name").say("、").pd(given, "name").say("と申します。")
    line.say(r.choice(["電話は", "番号は"])).pd(phone(r), "phone").say("です。")
    return line


_MARK = re.compile(r"\[\[(\w+):(.+?)\]\]|\{\{(.+?)\}\}")


def handwritten() -> list[Line]:
    """The lines of handwritten.txt: [[kind:text]] is personal data, {{text}} must stay."""
    lines = []
    for raw in (HERE / "handwritten.txt").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        line = Line("handwritten")
        at = 0
        for m in _MARK.finditer(raw):
            line.say(raw[at : m.start()])
            if m.group(1):
                line.pd(m.group(2), m.group(1))
            else:
                line.stay(m.group(3), "handwritten")
            at = m.end()
        line.say(raw[at:])
        lines.append(line)
    return lines


def main() -> None:
    r = random.Random(24)
    makers = [call_line] * 5 + [numbers_line] * 4 + [meeting_line] * 4 + [split_line]
    seen: set[str] = set()
    halves: dict[str, list[dict[str, object]]] = {"tune": [], "holdout": []}
    while sum(len(v) for v in halves.values()) < 420:
        line = r.choice(makers)(r)
        text = re.sub(r"\s+", " ", line.text)
        if text != line.text or text in seen:
            continue
        seen.add(text)
        half = "tune" if int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % 2 == 0 else "holdout"
        halves[half].append(line.json())
    for line in handwritten():
        half = "tune" if int(hashlib.sha1(line.text.encode()).hexdigest()[:8], 16) % 2 == 0 else "holdout"
        halves[half].append(line.json())
    for half, lines in halves.items():
        (HERE / half).mkdir(exist_ok=True)
        with (HERE / half / "corpus.jsonl").open("w", encoding="utf-8") as out:
            for item in lines:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(half, len(lines))


if __name__ == "__main__":
    main()
