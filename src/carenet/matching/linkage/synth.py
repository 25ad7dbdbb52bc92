"""Labelled synthetic population for evaluating record linkage. Pure Python, no Django.

The evaluation set is defined here, before any tuning: `population(seed=EVAL_SEED, persons=...)`.
Tuning (training the model, choosing thresholds) uses `TUNE_SEED` only; `EVAL_SEED` is for reporting.

Each person gets one clean record and, for a share of persons, extra records as another department would
hold them, with the noise seen in real registers:
- a homophone or near-homophone in the given name (张丽华 / 张利华, 陈建忠 / 陈建中, 刘宁 / 刘玲);
- the name (and address) in traditional characters (張麗華);
- missing ID, birth date, phone or address;
- a legacy 15-digit ID number; a wrong check character; one mistyped or two swapped digits in the ID;
- birth date with day and month swapped or one digit wrong;
- a moved address (another community, another street).

Hard negatives are planted on purpose: household members share surname, address and phone; twins share
birth date, address and almost the whole ID number; common names (王伟, 张伟) recur with other birth dates.

Every record carries `person` (the truth). Column layout is the CLI's:
record_id,name,id_number,birth_date,sex,division_code,address,phone.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

EVAL_SEED = 20261129
TUNE_SEED = 7
COLUMNS = ["record_id", "name", "id_number", "birth_date", "sex", "division_code", "address", "phone"]

REGION = "340899"
STREETS = 10
COMMUNITIES = 14
# Surnames roughly in order of frequency; weights follow a Zipf-like curve, so 王 李 张 刘 dominate.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
MALE = "伟国建明华军平志强德文广忠林永春海云福庆荣金宝成贵生祥顺发兴义良才学民安富胜利全家杰涛超勇磊波辉刚健鹏宇浩峰俊帅"
FEMALE = "秀英桂兰玉凤珍芳淑华丽红梅霞琴云莲素芝翠美春娟萍敏静慧燕菊香月琼仙娥彩婷雪洁玲倩颖晶丹"
# A wider pool of characters people write for a sound they heard (homophones come from here).
POOL = (MALE + FEMALE + "维卫为玮炜薇蔚威纬惟力立丽莉俐黎利礼李理里荔中忠钟仲众重终宗棕建剑健键坚兼"
        "华花化桦骅明铭鸣名敏民珉闽平萍苹凭屏玲岭凌灵龄铃领宁凝柠泞兰蓝岚澜篮南楠男难云芸运韵耘"
        "志智芝枝知之治致梓子紫自姿资军均君钧俊峻骏春纯淳存村寸文雯闻纹稳雯庆青清晴轻琴勤芹秦金今津锦晋"
        "静敬境靖竞京晶精经景荣容蓉融嵘榕成城程诚承辰晨陈臣尘生升声胜盛圣绳省森申深身伸红宏鸿洪虹宝保葆"
        "海凯开恺国果郭贵桂瑰梅玫媚美妹霞夏侠燕艳彦雁岩延娟涓鹃捐萍平凤峰锋丰风枫冯芳方舫放刚钢岗港")
ROADS = ["人民路", "解放路", "建设路", "长江路", "湖心路", "龙山路", "菱湖路", "沿江路", "华中路", "振风路", "皖江大道", "石化路"]

_s2t = OpenCC("s2t")
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("f", "h"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def _py(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL)[0]


def _fuzzy(p: str) -> str:
    for a, b in _FUZZY_INITIALS:
        if p.startswith(a):
            p = b + p[len(a):]
            break
    for a, b in _FUZZY_FINALS:
        if p.endswith(a):
            p = p[: -len(a)] + b
            break
    return p


def _sound_tables() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    by_py: dict[str, list[str]] = {}
    for ch in dict.fromkeys(POOL):
        by_py.setdefault(_py(ch), []).append(ch)
    homo = {ch: [c for c in by_py[_py(ch)] if c != ch] for ch in dict.fromkeys(POOL)}
    by_fz: dict[str, list[str]] = {}
    for ch in dict.fromkeys(POOL):
        by_fz.setdefault(_fuzzy(_py(ch)), []).append(ch)
    near = {ch: [c for c in by_fz[_fuzzy(_py(ch))] if _py(c) != _py(ch)] for ch in dict.fromkeys(POOL)}
    return homo, near


HOMOPHONES, NEAR_HOMOPHONES = _sound_tables()
WEIGHTS_17 = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS_17)) % 11]


@dataclass
class Person:
    pid: int
    name: str
    sex: str
    birth: dt.date
    id_number: str
    division_code: str
    address: str
    phone: str


class Population:
    """Deterministic: the same seed and size give the same records."""

    def __init__(self, seed: int, persons: int, dup_share: float = 0.3):
        self.rng = random.Random(seed)
        self.persons: list[Person] = []
        self._seq: dict[str, int] = {}
        weights = [1.0 / (i + 1) ** 0.9 for i in range(len(SURNAMES))]
        self._surnames = list(SURNAMES)
        self._sw = weights
        self._make_people(persons)
        self.records = self._make_records(dup_share)

    # -- people ------------------------------------------------------------------------------------
    def _division(self) -> str:
        r = self.rng
        return f"{REGION}{r.randint(1, STREETS):03d}{r.randint(1, COMMUNITIES):03d}"

    def _address(self) -> str:
        r = self.rng
        return f"{r.choice(ROADS)}{r.randint(1, 300)}号{r.randint(1, 30)}栋{r.randint(1, 6)}0{r.randint(1, 4)}室"

    def _phone(self) -> str:
        return self.rng.choice(["13", "15", "17", "18", "19"]) + "".join(self.rng.choices("0123456789", k=9))

    def _given(self, sex: str) -> str:
        chars = MALE if sex == "M" else FEMALE
        return self.rng.choice(chars) + (self.rng.choice(chars) if self.rng.random() < 0.7 else "")

    def _id(self, birth: dt.date, sex: str, seq: int | None = None) -> tuple[str, int]:
        key = birth.isoformat()
        if seq is None:
            seq = self._seq.get(key, self.rng.randrange(1, 200))
            if (seq % 2 == 1) != (sex == "M"):
                seq += 1
            self._seq[key] = seq + 1
        first17 = f"{REGION}{birth:%Y%m%d}{seq % 1000:03d}"
        return first17 + check_char(first17), seq

    def _birth(self) -> dt.date:
        return dt.date(1930, 1, 1) + dt.timedelta(days=self.rng.randint(0, 365 * 88))

    def _make_people(self, n: int) -> None:
        r = self.rng
        while len(self.persons) < n:
            surname = r.choices(self._surnames, self._sw)[0]
            division, address, phone = self._division(), self._address(), self._phone()
            size = r.choices([1, 2, 3, 4], [0.3, 0.35, 0.2, 0.15])[0]
            twins = size >= 3 and r.random() < 0.08
            prev = None
            for k in range(size):
                sex = r.choice("MF")
                if twins and k == 2 and prev is not None:
                    birth = prev.birth
                    id_number, _ = self._id(birth, sex)
                else:
                    birth = self._birth()
                    id_number, _ = self._id(birth, sex)
                # spouses may carry another surname; children carry the household's
                name = (surname if k != 1 else r.choices(self._surnames, self._sw)[0]) + self._given(sex)
                p = Person(len(self.persons), name, sex, birth, id_number, division, address,
                           phone if k < 2 or r.random() < 0.5 else self._phone())
                self.persons.append(p)
                prev = p
                if len(self.persons) >= n:
                    break

    # -- records -----------------------------------------------------------------------------------
    def _noisy_name(self, name: str) -> str:
        r = self.rng
        chars = list(name)
        i = r.randrange(1, len(chars)) if len(chars) > 1 else 0
        roll = r.random()
        if roll < 0.35 and HOMOPHONES.get(chars[i]):
            chars[i] = r.choice(HOMOPHONES[chars[i]])
        elif roll < 0.55 and NEAR_HOMOPHONES.get(chars[i]):
            chars[i] = r.choice(NEAR_HOMOPHONES[chars[i]])
        elif roll < 0.8:
            return _s2t.convert(name)
        elif roll < 0.9:
            chars.insert(1, " ")  # 王 伟: a stray space
        return "".join(chars)

    def _noisy_id(self, id_number: str) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.3:
            return id_number[:6] + id_number[8:17]  # legacy 15-digit number
        if roll < 0.55:
            return id_number[:17] + r.choice([c for c in "0123456789X" if c != id_number[17]])
        if roll < 0.8:
            i = r.randrange(14, 17)  # a mistyped sequence digit
            return id_number[:i] + r.choice([d for d in "0123456789" if d != id_number[i]]) + id_number[i + 1:]
        i = r.randrange(6, 16)  # two neighbouring digits swapped
        s = list(id_number)
        s[i], s[i + 1] = s[i + 1], s[i]
        return "".join(s)

    def _noisy_birth(self, birth: dt.date) -> str:
        r = self.rng
        if birth.day <= 12 and birth.day != birth.month and r.random() < 0.5:
            return dt.date(birth.year, birth.day, birth.month).isoformat()
        s = list(birth.strftime("%Y%m%d"))
        i = r.choice([2, 3, 7])
        s[i] = r.choice([d for d in "0123456789" if d != s[i]])
        try:
            return dt.datetime.strptime("".join(s), "%Y%m%d").date().isoformat()
        except ValueError:
            return birth.isoformat()

    def _record(self, p: Person, rid: str, noisy: bool) -> dict:
        r = self.rng
        rec = {"record_id": rid, "person": p.pid, "name": p.name, "id_number": p.id_number,
               "birth_date": p.birth.isoformat(), "sex": p.sex, "division_code": p.division_code,
               "address": p.address, "phone": p.phone}
        if not noisy:
            for f, share in (("phone", 0.2), ("birth_date", 0.1), ("address", 0.05)):
                if r.random() < share:
                    rec[f] = ""
            return rec
        if r.random() < 0.45:
            rec["name"] = self._noisy_name(p.name)
        if r.random() < 0.25:
            rec["address"] = _s2t.convert(rec["address"])
        roll = r.random()
        if roll < 0.15:
            rec["id_number"] = ""
        elif roll < 0.45:
            rec["id_number"] = self._noisy_id(p.id_number)
        roll = r.random()
        if roll < 0.2:
            rec["birth_date"] = ""
        elif roll < 0.3:
            rec["birth_date"] = self._noisy_birth(p.birth)
        if r.random() < 0.3:  # moved
            rec["division_code"] = self._division()
            rec["address"] = self._address()
        for f, share in (("phone", 0.4), ("address", 0.15), ("sex", 0.1)):
            if r.random() < share:
                rec[f] = ""
        if r.random() < 0.1 and rec["phone"]:
            rec["phone"] = self._phone()  # changed number
        return rec

    def _make_records(self, dup_share: float) -> list[dict]:
        r = self.rng
        out = []
        for p in self.persons:
            out.append(self._record(p, f"r{len(out)}", noisy=False))
            if r.random() < dup_share:
                for _ in range(r.choices([1, 2, 3], [0.7, 0.2, 0.1])[0]):
                    out.append(self._record(p, f"r{len(out)}", noisy=True))
        r.shuffle(out)
        return out


def population(seed: int = EVAL_SEED, persons: int = 20_000) -> list[dict]:
    """Records with a `person` truth column. The evaluation set is population(EVAL_SEED, 20_000)."""
    return Population(seed, persons).records


def true_pairs(records: list[dict]) -> set[tuple[str, str]]:
    by_person: dict[int, list[str]] = {}
    for rec in records:
        by_person.setdefault(rec["person"], []).append(rec["record_id"])
    pairs = set()
    for ids in by_person.values():
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                pairs.add(tuple(sorted((ids[i], ids[j]))))
    return pairs


def split_for_incremental(records: list[dict], new_share: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Existing and newly arriving records (the monthly load), truth kept."""
    rng = random.Random(seed)
    existing, new = [], []
    for rec in records:
        (new if rng.random() < new_share else existing).append(rec)
    return existing, new
