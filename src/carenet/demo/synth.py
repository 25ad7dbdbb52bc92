"""Deterministic synthetic district: divisions, households, residents and elders as plain data.

No Django here: `carenet seed` turns these records into rows. The same seed gives the same district.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from carenet.core import idcard

DISTRICT_CODE = "340899000000"
DISTRICT_NAME = "安和区"
REGION = DISTRICT_CODE[:6]
CENTER = (30.53, 117.06)  # lat, lon

STREETS = [
    ("人民路街道", "street"), ("新华街道", "street"), ("龙山街道", "street"), ("长江街道", "street"),
    ("东城街道", "street"), ("西湖街道", "street"), ("南港镇", "town"), ("北岭镇", "town"),
    ("白沙镇", "town"), ("青石乡", "town"),
]
COMMUNITY_STEMS = [
    "和平", "幸福", "光明", "建设", "团结", "解放", "胜利", "友谊", "朝阳", "向阳", "红星", "新村", "安康",
    "富民", "文昌", "春晖", "桃园", "杏花", "柳林", "枫桥", "金桥", "银湖", "石桥", "南塘", "北园", "东升",
    "西苑", "中山", "华亭", "长青", "松林", "竹园", "荷塘", "梅岭", "兰亭", "菊香", "丰收", "永安", "兴隆",
    "太平", "长寿", "福寿", "祥和", "瑞丰", "清泉", "白鹭", "凤凰", "麒麟", "青龙", "玉泉",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
MALE_CHARS = "国建明华军平志强伟德文广秀忠林永春海云福庆荣金宝成贵生祥顺发兴义良才学民安富胜利全家"
FEMALE_CHARS = "秀英桂兰玉凤珍芳淑华丽红梅霞琴云莲素芝翠美春娟萍敏静慧燕菊香月琼仙娥彩"
ROADS = ["人民路", "解放路", "建设路", "长江路", "湖心路", "龙山路", "菱湖路", "沿江路", "华中路", "振风路", "皖江大道", "石化路"]

CONDITIONS = {
    "高血压": "苯磺酸氨氯地平片 5mg 每日一次",
    "2型糖尿病": "盐酸二甲双胍片 0.5g 每日三次",
    "冠心病": "阿司匹林肠溶片 100mg 每日一次",
    "慢性阻塞性肺疾病": "噻托溴铵吸入剂 每日一次",
    "脑卒中后遗症": "阿托伐他汀钙片 20mg 每晚一次",
    "阿尔茨海默病": "盐酸多奈哌齐片 5mg 每晚一次",
    "骨质疏松": "碳酸钙D3片 每日一次",
    "骨关节炎": "硫酸氨基葡萄糖胶囊 每日三次",
    "慢性心力衰竭": "呋塞米片 20mg 每日一次",
    "白内障": "",
}
ALLERGIES = ["青霉素", "磺胺类药物", "头孢类药物", "海鲜", "花粉", "阿司匹林"]
HOSPITALS = ["安和区人民医院", "安和区中医院", "市立医院", "市第一人民医院"]


@dataclass
class DivisionRec:
    code: str
    name: str
    level: int
    parent: str | None
    lat: float
    lon: float


@dataclass
class PersonRec:
    key: int
    name: str
    sex: str
    birth: dt.date
    id_number: str
    phone: str
    relation: str
    division: str  # grid code
    is_elder: bool = False
    living: str = ""
    care_level: str = ""
    dementia: bool = False
    categories: list[str] = field(default_factory=list)
    health: dict = field(default_factory=dict)
    contacts: list[dict] = field(default_factory=list)
    lat: float = 0.0
    lon: float = 0.0


@dataclass
class HouseholdRec:
    key: int
    division: str
    address: str
    hukou: str
    members: list[PersonRec]


class District:
    """Generates the district tree and its population from one integer seed."""

    def __init__(self, seed: int = 7, communities_per_street: int = 15, grids_per_community: int = 4):
        self.rng = random.Random(seed)
        self.seed = seed
        self.divisions: list[DivisionRec] = []
        self.grids: list[DivisionRec] = []
        self._seq: dict[tuple[str, dt.date], int] = {}
        self._phones: set[str] = set()
        self._build_tree(communities_per_street, grids_per_community)

    # -- divisions -----------------------------------------------------------------------------
    def _build_tree(self, per_street: int, per_community: int) -> None:
        rng = self.rng
        self.divisions.append(DivisionRec(DISTRICT_CODE, DISTRICT_NAME, 1, None, *CENTER))
        stems = COMMUNITY_STEMS[:]
        for s, (street_name, kind) in enumerate(STREETS, start=1):
            street_code = f"{REGION}{s:03d}000"
            slat, slon = CENTER[0] + rng.uniform(-0.12, 0.12), CENTER[1] + rng.uniform(-0.15, 0.15)
            self.divisions.append(DivisionRec(street_code, street_name, 2, DISTRICT_CODE, slat, slon))
            rng.shuffle(stems)
            count = per_street + rng.randint(-2, 2) if per_street > 3 else per_street
            for c in range(1, count + 1):
                stem = stems[(c - 1) % len(stems)]
                suffix = "社区" if kind == "street" or c <= 3 else "村"
                # 统计用区划代码: 居委会 001-199, 村委会 200-399.
                cnum = c if suffix == "社区" else 200 + c
                ccode = f"{REGION}{s:03d}{cnum:03d}"
                clat, clon = slat + rng.uniform(-0.02, 0.02), slon + rng.uniform(-0.02, 0.02)
                self.divisions.append(DivisionRec(ccode, f"{stem}{suffix}", 3, street_code, clat, clon))
                for g in range(1, per_community + 1):
                    grid = DivisionRec(f"{ccode}{g:03d}", f"第{g}网格", 4, ccode,
                                       clat + rng.uniform(-0.004, 0.004), clon + rng.uniform(-0.004, 0.004))
                    self.divisions.append(grid)
                    self.grids.append(grid)

    # -- people --------------------------------------------------------------------------------
    def _name(self, sex: str, surname: str | None = None) -> str:
        rng = self.rng
        surname = surname or rng.choice(SURNAMES)
        chars = MALE_CHARS if sex == "M" else FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.8 else "")
        return surname + given

    def _id(self, birth: dt.date, sex: str) -> str:
        key = (REGION, birth)
        seq = self._seq.get(key, self.rng.randrange(1, 40) * 2)
        # odd sequence for men, even for women (GB 11643).
        if (seq % 2 == 1) != (sex == "M"):
            seq += 1
        self._seq[key] = seq + 1
        if seq > 999:
            raise OverflowError("too many people born on one day for one region code")
        return idcard.make(REGION, birth, seq)

    def _phone(self) -> str:
        while True:
            p = self.rng.choice(["13", "15", "17", "18", "19"]) + "".join(self.rng.choices("0123456789", k=9))
            if p not in self._phones:
                self._phones.add(p)
                return p

    def _birth(self, age_min: int, age_max: int, today: dt.date) -> dt.date:
        age = self.rng.randint(age_min, age_max)
        return today - dt.timedelta(days=age * 365 + self.rng.randint(0, 364))

    def _elder_age(self) -> tuple[int, int]:
        r = self.rng.random()
        if r < 0.55:
            return 60, 69
        if r < 0.85:
            return 70, 79
        if r < 0.98:
            return 80, 89
        return 90, 101

    def households(self, elders: int, today: dt.date | None = None):
        """Yield households until `elders` people aged 60+ have been generated."""
        today = today or dt.date(2026, 11, 1)
        rng = self.rng
        made = 0
        key = 0
        while made < elders:
            key += 1
            grid = rng.choice(self.grids)
            hukou = "rural" if grid.code[9:12] >= "200" else "urban"
            address = f"{rng.choice(ROADS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
            lat, lon = grid.lat + rng.uniform(-0.002, 0.002), grid.lon + rng.uniform(-0.002, 0.002)
            living = rng.choices(["alone", "empty_nest", "with_children", "care_home"], [22, 35, 39, 4])[0]
            sex = rng.choice("MF")
            surname = rng.choice(SURNAMES)
            head = self._elder(key * 10, sex, surname, grid.code, living, today, lat, lon)
            members = [head]
            if living in ("empty_nest", "with_children") and made + 1 < elders and rng.random() < 0.85:
                spouse_sex = "F" if sex == "M" else "M"
                spouse = self._elder(key * 10 + 1, spouse_sex, None, grid.code, living, today, lat, lon,
                                     near=head.birth)
                spouse.relation = "spouse"
                members.append(spouse)
            if living == "with_children":
                child_sex = rng.choice("MF")
                child = self._person(key * 10 + 2, child_sex, surname, grid.code, "child", 30, 55, today, lat, lon)
                members.append(child)
                if rng.random() < 0.6:
                    members.append(self._person(key * 10 + 3, rng.choice("MF"), surname, grid.code, "grandchild",
                                                3, 25, today, lat, lon))
            elders_here = [m for m in members if m.is_elder]
            for m in elders_here:
                m.contacts = self._contacts(m, surname, members)
            made += len(elders_here)
            yield HouseholdRec(key, grid.code, address, hukou, members)

    def _person(self, key, sex, surname, grid, relation, amin, amax, today, lat, lon) -> PersonRec:
        birth = self._birth(amin, amax, today)
        return PersonRec(key, self._name(sex, surname), sex, birth, self._id(birth, sex), self._phone(),
                         relation, grid, lat=lat, lon=lon)

    def _elder(self, key, sex, surname, grid, living, today, lat, lon, near: dt.date | None = None) -> PersonRec:
        rng = self.rng
        if near is not None:
            birth = near + dt.timedelta(days=rng.randint(-5 * 365, 5 * 365))
            if (today - birth).days < 60 * 365 + 15:
                birth = today - dt.timedelta(days=60 * 365 + 15 + rng.randint(0, 700))
        else:
            birth = self._birth(*self._elder_age(), today)
        age = (today - birth).days // 365
        p = PersonRec(key, self._name(sex, surname), sex, birth, self._id(birth, sex),
                      self._phone() if rng.random() < 0.8 else "", "head", grid, is_elder=True, lat=lat, lon=lon)
        p.living = living
        frail = 0.05 + max(0, age - 70) * 0.02
        r = rng.random()
        p.care_level = "severe" if r < frail * 0.4 else "moderate" if r < frail * 0.9 else "mild" if r < frail * 2 else "intact"
        cats = []
        for code, share in (("dibao", 0.04), ("tekun", 0.012), ("marginal", 0.02), ("severe_disability", 0.03),
                            ("lost_only_child", 0.01), ("youfu", 0.02)):
            if rng.random() < share:
                cats.append(code)
        if "tekun" in cats and "dibao" in cats:
            cats.remove("dibao")
        if age >= 80:
            cats.append("advanced_age")
        p.categories = cats
        n_cond = rng.choices([0, 1, 2, 3], [25, 40, 25, 10])[0]
        conditions = rng.sample(list(CONDITIONS), n_cond)
        p.dementia = "阿尔茨海默病" in conditions
        p.health = {
            "blood_type": rng.choice(["A", "B", "O", "AB", "A", "O", ""]),
            "chronic_conditions": "\n".join(conditions),
            "medications": "\n".join(CONDITIONS[c] for c in conditions if CONDITIONS[c]),
            "allergies": "\n".join(rng.sample(ALLERGIES, 1)) if rng.random() < 0.15 else "",
            "medical_history": rng.choice(["", "", "2019年髋关节置换术", "2021年阑尾切除", "2018年心脏支架植入"]),
            "family_doctor": self._name(rng.choice("MF")) + "医生",
            "doctor_phone": self._phone(),
            "hospital": rng.choice(HOSPITALS),
        }
        return p

    def _contacts(self, elder: PersonRec, surname: str, members: list[PersonRec]) -> list[dict]:
        rng = self.rng
        contacts = []
        for m in members:
            if m is not elder and m.relation == "spouse" and m.phone:
                contacts.append({"name": m.name, "relation": "配偶", "phone": m.phone, "key_holder": True, "lives_nearby": True})
        for _ in range(rng.randint(1, 2)):
            sex = rng.choice("MF")
            contacts.append({"name": self._name(sex, surname), "relation": "儿子" if sex == "M" else "女儿",
                             "phone": self._phone(), "key_holder": rng.random() < 0.6, "lives_nearby": rng.random() < 0.4})
        if elder.living == "alone" or rng.random() < 0.3:
            contacts.append({"name": self._name(rng.choice("MF")), "relation": "邻居", "phone": self._phone(),
                             "key_holder": rng.random() < 0.5, "lives_nearby": True})
        for i, c in enumerate(contacts, start=1):
            c["order"] = i
        return contacts
