"""Demo home care: the district's budget standards, the service catalogue, providers and helpers (the `helper`
login is one of them), a month of verified services with a few anomalies, live orders for today, visit plans
with records, follow-up calls, and last month settled. Deterministic; synthetic data only."""
import datetime as dt
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.homecare import community, jobs, services
from carenet.homecare import models as m
from carenet.homecare.engine import settlement as es
from carenet.people.models import ElderProfile

CATALOGUE = [  # code, name, unit, price, min, max
    ("meal", "助餐", "meal", "15", 10, 40), ("bath", "助浴", "visit", "60", 45, 90), ("clean", "助洁", "hour", "40", 60, 180),
    ("emergency", "助急", "visit", "50", 15, 120), ("medical", "助医", "visit", "45", 30, 180), ("walk", "助行", "hour", "30", 30, 120),
    ("laundry", "洗衣", "visit", "25", 20, 60), ("shopping", "代购", "visit", "20", 20, 90), ("chat", "陪聊", "hour", "30", 30, 120),
]
PROVIDERS = ["安康居家养老服务社", "夕阳红居家服务中心", "邻里帮为老服务站"]
HELPER_NAMES = "李秀兰 王桂英 张淑珍 刘玉梅 陈凤英 杨桂兰 赵秀珍 黄丽娟 周美玲 吴春燕 徐海燕 孙红梅".split()
RECORDS = {"meal": "送餐到家，老人已用餐", "bath": "协助洗澡、更衣，皮肤无破损", "clean": "打扫厨房卫生间，整理床铺",
           "emergency": "上门查看，老人情况稳定", "medical": "陪同到社区卫生服务中心取药", "walk": "陪同小区散步",
           "laundry": "清洗床单衣物", "shopping": "代购米面蔬菜", "chat": "聊天解闷，老人情绪良好"}


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when home-care orders exist")
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, if_empty, seed, days, **opts):
        if if_empty and m.Order.objects.exists():
            self.stdout.write("home-care demo data already present")
            return
        district = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code").first()
        if district is None:
            self.stdout.write("no district: run `manage.py seed` first")
            return
        with transaction.atomic():
            n = self._seed(district, random.Random(seed), days)
        # last month is settled (its statement and figures can be shown)
        admin = User.objects.filter(role=Role.DISTRICT_ADMIN).first()
        last = es.month_start(timezone.localdate().replace(day=1) - dt.timedelta(days=1))
        run = jobs.execute(jobs.start(admin or User.objects.filter(is_superuser=True).first(), last).pk)
        self.stdout.write(f"home care: {n} orders; {last:%Y-%m} settled with {run.lines} lines")

    def _seed(self, district, rnd, days):
        services.seed_standards(district)
        types = {}
        for i, (key, name, unit, price, lo, hi) in enumerate(CATALOGUE, start=1):
            # the stored code is the catalogue number staff see (JJ01…), not the seed's English key
            types[key], _c = m.ServiceType.objects.get_or_create(code=f"JJ{i:02d}", defaults=dict(
                name=name, unit=unit, price=Decimal(price), min_minutes=lo, max_minutes=hi))
        streets = list(Division.objects.filter(parent=district, level=Division.Level.STREET).order_by("code"))
        helper_user = User.objects.filter(username="helper").first()
        home_street = helper_user.division if helper_user and helper_user.division_id else streets[0]
        providers, helpers = [], []
        for i, name in enumerate(PROVIDERS):
            p = m.Provider.objects.create(name=name, division=district, phone=f"0556-55{i}0000",
                                          contract_start=dt.date(2025, 1, 1), contract_end=dt.date(2027, 12, 31))
            covered = [s for j, s in enumerate(streets) if j % len(PROVIDERS) == i] or streets
            p.areas.add(*covered, *([home_street] if i == 0 else []))
            providers.append((p, covered if i else covered + [home_street]))
        for k, hname in enumerate(HELPER_NAMES):
            p, covered = providers[k % len(providers)]
            area = home_street if k == 0 else covered[k % len(covered)]
            h = m.Helper.objects.create(provider=p, name=hname, phone=f"1360000{k:04d}", division=area,
                                        certificates="养老护理员（四级）" if k % 2 else "健康证", work_start=dt.time(7),
                                        work_end=dt.time(20), user=helper_user if k == 0 else None)
            h.skills.add(*[t for code, t in types.items() if code != "medical" or k % 3 == 0])
            helpers.append(h)
        if helper_user:
            helper_user.first_name = HELPER_NAMES[0]
            helper_user.save(update_fields=["first_name"])
        elders = list(ElderProfile.objects.filter(categories__code__in=["tekun", "dibao", "lost_only_child", "severe_disability"],
                                                  resident__deceased_on__isnull=True)
                      .select_related("resident__division").distinct().order_by("pk")[:400])
        by_path = {}
        for h in helpers:
            by_path.setdefault(h.division.path, []).append(h)

        def helper_for(elder):
            path = elder.resident.division.path
            for p, hs in by_path.items():
                if path == p or path.startswith(p + "/"):
                    return rnd.choice(hs)
            return rnd.choice(helpers)

        now = timezone.now().replace(second=0, microsecond=0)
        tz = timezone.get_current_timezone()
        orders = []
        spent = {}
        for day in range(days, 0, -1):
            date = timezone.localdate() - dt.timedelta(days=day)
            for elder in rnd.sample(elders, min(len(elders), 12)):
                code = rnd.choice(["meal", "meal", "clean", "bath", "chat", "shopping", "laundry", "walk"])
                st = types[code]
                h = helper_for(elder)
                start = dt.datetime.combine(date, dt.time(rnd.randint(8, 16), rnd.choice([0, 15, 30, 45])), tz)
                minutes = rnd.randint(st.min_minutes, st.max_minutes)
                price = st.price if st.unit != "hour" else (st.price * minutes / 60).quantize(Decimal("0.01"))
                key = (elder.pk, date.replace(day=1))
                left = Decimal("200") - spent.get(key, Decimal("0"))
                subsidy = min(price, max(left, Decimal("0")))
                spent[key] = spent.get(key, Decimal("0")) + subsidy
                r = elder.resident
                far = rnd.random() < 0.02
                lat = (r.lat or 30.53) + (0.012 if far else rnd.uniform(-0.0005, 0.0005))
                lon = (r.lon or 117.05) + rnd.uniform(-0.0005, 0.0005)
                short = rnd.random() < 0.02
                out = start + dt.timedelta(minutes=minutes if not short else max(5, st.min_minutes // 3))
                orders.append(m.Order(
                    elder=elder, division=r.division, service_type=st, provider=h.provider, helper=h, state="rated",
                    channel=rnd.choice(["call", "plan", "worker", "plan"]), scheduled_at=start, minutes=minutes, price=price,
                    subsidy=subsidy, self_pay=price - subsidy, self_pay_consent=price > subsidy,
                    split_note="额度内补贴" if price == subsidy else f"补贴 {subsidy} 元，自费 {price - subsidy} 元（老人已同意）",
                    accepted_at=start - dt.timedelta(hours=2), checked_in_at=start, checked_in_received=start,
                    check_in_lat=lat, check_in_lon=lon, check_out_lat=lat, check_out_lon=lon, checked_out_at=out,
                    record=RECORDS[code], confirmed_at=out, confirmed_by="本人", rating=rnd.choice([5, 5, 5, 4, 4, 3]),
                    created_by=None))
        m.Order.objects.bulk_create(orders, batch_size=1000)
        # anomalies on the seeded month, through the same rules the phone's check-out runs
        for o in m.Order.objects.filter(state="rated").select_related("elder__resident", "service_type"):
            if o.check_in_lat is not None and o.elder.resident.lat is not None:
                services.verify(o) if abs(o.check_in_lat - o.elder.resident.lat) > 0.005 or \
                    (o.checked_out_at - o.checked_in_at) < dt.timedelta(minutes=o.service_type.min_minutes) else None
        for o in m.Order.objects.order_by("pk")[::7][:60]:
            m.FollowUpCall.objects.get_or_create(order=o, defaults={"division": o.division, "due": timezone.localdate(),
                                                                   "done_at": now, "reached": True,
                                                                   "satisfaction": rnd.choice([5, 5, 4, 4, 3])})
        for o in m.Order.objects.order_by("-pk")[:8]:
            m.FollowUpCall.objects.get_or_create(order=o, defaults={"division": o.division, "due": timezone.localdate()})
        # today's live orders; the `helper` login's task list
        live = []
        hp = helpers[0].division.path
        street_elders = list(ElderProfile.objects.filter(resident__deceased_on__isnull=True)
                             .filter(resident__division__path__startswith=hp + "/").select_related("resident__division")
                             .prefetch_related("categories").order_by("pk")[:200])
        eligible = {"tekun", "dibao", "lost_only_child", "severe_disability"}
        street_elders.sort(key=lambda e: not (set(e.category_codes) & eligible))
        mine = street_elders[:5]
        for i, elder in enumerate(mine):
            start = timezone.localtime(now).replace(hour=9 + 2 * i, minute=0)
            st = types[["bath", "clean", "meal", "chat", "shopping"][i]]
            state = ["accepted", "assigned", "assigned", "checked_in", "assigned"][i]
            o = m.Order.objects.create(
                elder=elder, division=elder.resident.division, service_type=st, provider=helpers[0].provider,
                helper=helpers[0], state=state, channel="call", scheduled_at=start, minutes=st.min_minutes,
                price=st.price, subsidy=st.price if set(elder.category_codes) & eligible else Decimal("0"),
                self_pay=Decimal("0") if set(elder.category_codes) & eligible else st.price,
                self_pay_consent=not set(elder.category_codes) & eligible,
                split_note="额度内补贴" if set(elder.category_codes) & eligible else "非补贴对象，老人自费（已同意）",
                notes="请带好防滑垫" if i == 0 else "",
                checked_in_at=now - dt.timedelta(minutes=20) if state == "checked_in" else None,
                check_in_lat=elder.resident.lat, check_in_lon=elder.resident.lon)
            m.OrderEvent.objects.create(order=o, action="create", from_state="", to_state="created", at=now)
            live.append(o)
        for elder in elders[5:9]:  # waiting for a helper in other streets
            st = types["clean"]
            m.Order.objects.create(elder=elder, division=elder.resident.division, service_type=st, state="created",
                                   channel="worker", scheduled_at=now + dt.timedelta(hours=3), minutes=60, price=st.price,
                                   subsidy=st.price, split_note="额度内补贴")
        # visits (探访): plans from the registry, some visited, some overdue
        community.generate_visit_plans(district, today=timezone.localdate() - dt.timedelta(days=40))
        visitor = User.objects.filter(role=Role.WORKER).first()
        records, visited = [], []
        for i, p in enumerate(m.VisitPlan.objects.order_by("pk")):
            if i % 12 == 11 or visitor is None:
                continue  # never visited: overdue (about one plan in twelve, as a community that is behind)
            when = now - dt.timedelta(days=rnd.randint(1, p.days), hours=rnd.randint(0, 8))
            records.append(m.VisitRecord(plan=p, elder_id=p.elder_id, division_id=p.division_id, visitor=visitor,
                                         visited_at=when,
                                         seen=rnd.choice(["精神状态良好，家中整洁", "腿脚不便，冰箱食物不足", "独居，情绪低落"]),
                                         needs=rnd.choice(["", "", "需要助洁服务", "需要送餐"])))
            p.last_visit = timezone.localtime(when).date()
            p.next_due = p.last_visit + dt.timedelta(days=p.days)
            visited.append(p)
        m.VisitRecord.objects.bulk_create(records, batch_size=1000)
        m.VisitPlan.objects.bulk_update(visited, ["last_visit", "next_due"], batch_size=1000)
        community.escalate_visits()
        return len(orders) + len(live)
