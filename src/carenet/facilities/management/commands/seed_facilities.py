"""Demo facilities: about 230 of every type across the synthetic district, with staff, residents, evaluations,
inspections, complaints and a few smart rooms whose devices the demo simulator drives."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal as D

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.devices.models import Device, demo_token, hash_token
from carenet.facilities import models as m
from carenet.facilities import services
from carenet.facilities.engine import inspection as einsp
from carenet.people.models import ElderProfile

INDICATORS = [("fire", "safety", "消防设施与应急预案", 15, 10), ("food", "safety", "食品安全与留样", 10, 10),
              ("hazard", "safety", "适老化与防跌倒", 10, 10), ("care", "services", "生活照料与护理质量", 15, 10),
              ("activity", "services", "文化娱乐与精神慰藉", 10, 10), ("meal", "services", "助餐服务", 5, 10),
              ("files", "management", "制度、台账与档案", 10, 10), ("staffq", "management", "人员资质与培训", 10, 10),
              ("survey", "satisfaction", "老人及家属满意度", 15, 100)]
# Two operators also run home care (the names of seed_homecare's providers): their facilities' supervision pages
# show the provider's home-care anomalies.
OPERATORS = ["安康居家养老服务社", "颐和居家养老服务中心", "福寿康养集团", "夕阳红居家服务中心", "同心养老服务公司",
             "仁爱护理院管理有限公司", "街道公办", "乡镇公办"]
FINDINGS = [("fire", "灭火器压力不足"), ("fire", "疏散通道堆放杂物"), ("fire", "应急照明损坏"), ("food", "食品留样记录不全"),
            ("food", "厨师健康证过期"), ("service", "护理记录未按时填写"), ("service", "老人个人档案不完整")]
STAFF_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


class Command(BaseCommand):
    help = "Seed demo facilities (idempotent with --if-empty)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true")
        parser.add_argument("--seed", type=int, default=12)
        parser.add_argument("--smart-rooms", type=int, default=6,
                            help="rooms given to elders the demo simulator drives (the first homes by id)")

    def handle(self, *args, if_empty, seed, smart_rooms, **opts):
        if if_empty and m.Facility.objects.exists():
            self.stdout.write("facilities already seeded")
            return
        district = Division.objects.filter(level=1).order_by("code").first()
        if district is None:
            self.stderr.write("no divisions: run `manage.py seed` first")
            return
        with transaction.atomic():
            n = self._seed(random.Random(seed), district, smart_rooms)
        self.stdout.write(f"seeded {n} facilities")

    def _seed(self, rng, district, smart_rooms):
        today = timezone.localdate()
        admin = User.objects.filter(role=Role.DISTRICT_ADMIN).order_by("id").first()
        evaluator, created = User.objects.get_or_create(username="evaluator", defaults={
            "role": Role.EVALUATOR, "division": district, "first_name": "第三方评估员"})
        if created:
            from carenet.demo.loader import DEMO_PASSWORD
            evaluator.set_password(DEMO_PASSWORD)
            evaluator.save()
        for t, cap in (("center", "300000"), ("station", "80000"), ("rural_point", "50000"), ("day_care", "100000"),
                       ("meal_point", "30000"), ("nursing_home", "300000"), ("private_home", "200000")):
            services.add_subsidy_rule(None, district, t, "subsidy_cap_yearly", D(cap), dt.date(2024, 1, 1), "区民政局〔2024〕12号")
        services.add_subsidy_rule(None, district, "*", "subsidy_bands", [(90, "1.0"), (80, "0.8"), (70, "0.6"), (60, "0.4")],
                                  dt.date(2024, 1, 1), "区民政局〔2024〕12号")
        tpl = m.EvaluationTemplate.objects.create(name="养老服务设施年度第三方评估（2024版）")
        m.Indicator.objects.bulk_create([m.Indicator(template=tpl, code=c, group=g, label=lb, weight=w, max_points=mx, order=i)
                                         for i, (c, g, lb, w, mx) in enumerate(INDICATORS)])
        streets = list(Division.objects.filter(level=2).order_by("code"))
        facilities: list[m.Facility] = []
        seq = [0]

        from carenet.demo.synth import District  # where the synthetic district put each street and community
        where = {r.code: (r.lat, r.lon) for r in District().divisions if r.level <= 3}

        def add(type_, division, name, beds=0, nursing=0, parent=None, status="operating", **kw):
            seq[0] += 1
            clat, clon = where.get(division.code, (30.53, 117.06))
            spread = 0.004 if division.level == 3 else 0.02
            lat = D(str(round(clat + rng.uniform(-spread, spread), 6)))
            lon = D(str(round(clon + rng.uniform(-spread, spread), 6)))
            f = m.Facility(code=f"F{division.code[:9]}{seq[0]:04d}", name=name, type=type_, division=division, status=status,
                           address=f"{division.name}{rng.randint(1, 300)}号", lat=lat, lon=lon, beds=beds, nursing_beds=nursing,
                           building_area=D(rng.randint(200, 3000)), activity_area=D(rng.randint(80, 800)),
                           licence_no=f"民养备{rng.randint(10000, 99999)}", operator=kw.get("operator") or rng.choice(OPERATORS),
                           operating_model=kw.get("model", rng.choice(["public", "public_private", "private"])),
                           parent_center=parent, meal_capacity=kw.get("meals", 0), phone=f"0556-{rng.randint(5000000, 5999999)}")
            f.save()
            facilities.append(f)
            return f

        for s in streets:
            town = s.name.endswith(("镇", "乡"))
            center = add("center", s, f"{s.name}{'镇' if town else ''}养老服务中心".replace("镇镇", "镇"), beds=rng.randint(20, 40),
                         nursing=0, model="public_private")
            center.nursing_beds = int(center.beds * rng.uniform(0.5, 0.8))
            center.save(update_fields=["nursing_beds"])
            for c in Division.objects.filter(parent=s).order_by("code"):
                if c.name.endswith("村"):
                    add("rural_point", c, f"{c.name}农村互助养老点", beds=rng.choice([0, 0, 4, 6]), model="public")
                else:
                    add("station", c, f"{c.name}养老服务站", beds=rng.choice([0, 4, 6, 8]), nursing=rng.choice([0, 2]),
                        parent=center, model="public_private", operator=center.operator)
            if town:
                add("nursing_home", s, f"{s.name}敬老院（特困供养服务机构）", beds=rng.randint(40, 70), nursing=20, model="public",
                    operator="乡镇公办")
        for i in range(12):
            s = rng.choice(streets)
            beds = rng.randint(50, 120)
            add("private_home", s, f"{rng.choice(['颐康', '福寿', '康乐', '慈孝', '松鹤', '怡人堂', '夕阳红', '安泰'])}养老院{i + 1}号院",
                beds=beds, nursing=int(beds * 0.7), model="private")
        for i in range(22):
            s = rng.choice(streets)
            add("day_care", s, f"{s.name}日间照料中心{i + 1}", beds=rng.choice([0, 5, 10]))
        for i in range(30):
            s = rng.choice(streets)
            add("meal_point", s, f"{s.name}长者食堂{i + 1}", meals=rng.choice([60, 80, 120, 200]))
        for f in rng.sample(facilities, 6):
            f.status = rng.choice(["planning", "suspended", "closed"])
            f.save(update_fields=["status"])

        # staff
        staff = []
        for f in facilities:
            roles = ["manager"] + ["caregiver"] * max(1, f.beds // 8) + ["nurse"] * (1 if f.beds >= 20 else 0) + \
                    (["cook"] if f.type in ("center", "meal_point", "nursing_home", "private_home") else []) + ["social_worker"] * rng.randint(0, 1)
            for r in roles:
                staff.append(m.Staff(facility=f, name=rng.choice(STAFF_NAMES) + rng.choice("文华明丽芳军英红平"), role=r,
                                     certificates={"nurse": "护士执业证书", "caregiver": "养老护理员职业技能等级证书"}.get(r, ""),
                                     training_hours=rng.randint(8, 72)))
        m.Staff.objects.bulk_create(staff)

        # residents: elders of the same street, never the simulated homes (the first 200 elders by id)
        simulated = list(ElderProfile.objects.order_by("id").values_list("id", flat=True)[:200])
        used = set(simulated)
        stays = []
        for f in [f for f in facilities if f.beds and f.status == "operating"]:
            want = int(f.beds * rng.uniform(0.55, 0.95))
            prefix = "/".join(f.division.path.split("/")[:3])
            pool = [e for e in ElderProfile.objects.filter(resident__division__path__startswith=prefix)
                    .exclude(id__in=used).values_list("id", "care_level")[:want * 3]]
            rng.shuffle(pool)
            for i, (eid, care) in enumerate(pool[:want]):
                used.add(eid)
                stays.append(m.FacilityResident(facility=f, elder_id=eid, admitted=today - dt.timedelta(days=rng.randint(10, 900)),
                                                care_level=care, nursing_bed=i < f.nursing_beds, room=f"{100 + i // 2}"))
        m.FacilityResident.objects.bulk_create(stays)

        # evaluations (most within 12 months; some overdue)
        operating = [f for f in facilities if f.status == "operating"]
        for f in operating:
            if rng.random() < 0.1:
                continue
            quality = rng.uniform(0.55, 0.98)
            scores = {c: D(str(round(min(mx, max(0, mx * (quality + rng.uniform(-0.1, 0.1)))), 1))) for c, _g, _l, _w, mx in INDICATORS}
            when = today - dt.timedelta(days=rng.randint(20, 330) if rng.random() < 0.9 else rng.randint(380, 500))
            services.evaluate(evaluator, f, tpl, scores, when, "年度评估")

        # inspections and findings in every state of the loop
        inspectors = list(User.objects.filter(role__in=[Role.REVIEWER, Role.APPROVER, Role.DISTRICT_ADMIN]).order_by("id")) or [admin]
        for f in rng.sample(operating, min(70, len(operating))):
            kind, desc = rng.choice(FINDINGS)
            inspector = rng.choice(inspectors)
            on = today - dt.timedelta(days=rng.randint(3, 60))
            insp = m.Inspection.objects.create(facility=f, kind=kind, inspected_on=on, inspector=inspector)
            if rng.random() < 0.3:
                continue
            sev = rng.choice(["major", "general", "general", "minor"])
            stage = rng.choice(["open", "assigned", "assigned", "rectified", "closed", "closed"])
            finding = m.Finding.objects.create(inspection=insp, facility=f, description=desc, severity=sev)
            m.FindingStep.objects.create(finding=finding, actor=inspector, to_status="open", note=desc)
            if stage != "open":
                finding.assignee, finding.assigned_on = f"{f.name}负责人", on + dt.timedelta(days=1)
                finding.due = einsp.deadline(finding.assigned_on, sev)
                finding.status = "assigned"
                m.FindingStep.objects.create(finding=finding, actor=inspector, from_status="open", to_status="assigned",
                                             note=f"交办 {finding.assignee}，期限 {finding.due}")
            if stage in ("rectified", "closed"):
                finding.status = "rectified"
                finding.rectified_at = timezone.now() - dt.timedelta(days=2)
                m.FindingStep.objects.create(finding=finding, actor=inspector, from_status="assigned", to_status="rectified",
                                             note="已整改")
            if stage == "closed":
                finding.status, finding.closed_by, finding.closed_at = "closed", inspector, timezone.now() - dt.timedelta(days=1)
                m.FindingStep.objects.create(finding=finding, actor=inspector, from_status="rectified", to_status="closed",
                                             note="验收合格，销号")
            finding.save()
        # complaints in every state, through the real services (intake, routing to the street, answer, close)
        taker = User.objects.filter(role=Role.OPERATOR, division__level=1).order_by("id").first() or admin
        handler = admin
        for i in range(40):
            fac = rng.choice(operating)
            cat, text = rng.choice([("food", "饭菜偏咸"), ("staff", "护理员态度不好"), ("care", "房间空调不制冷"),
                                    ("other", "探视时间太短"), ("fees", "收费不透明")])
            c = services.take_complaint(taker, fac, summary=text, category=cat, channel=rng.choice(["phone", "hotline", "visit"]),
                                        complainant=rng.choice(STAFF_NAMES) + "女士", phone=f"139{rng.randint(10000000, 99999999)}",
                                        received_on=today - dt.timedelta(days=rng.randint(1, 60)))
            if i % 5:
                services.route_complaint(handler, c.pk, services.street_of(fac), handler="街道民政办")
            if i % 5 > 1:
                services.answer_complaint(handler, c.pk, "已约谈运营方，限期整改，并回访投诉人。")
            if i % 5 > 2:
                services.close_complaint(handler, c.pk, "投诉人对处理结果表示满意")

        # smart rooms: care-home rooms of simulated elders, with a mattress, smoke detector and air monitor
        helper_path = User.objects.filter(username="helper").values_list("division__path", flat=True).first() or ""
        homes = sorted((f for f in operating if f.type in ("nursing_home", "private_home", "center")),
                       key=lambda f: not f.division.path.startswith(helper_path or "-"))[:max(1, smart_rooms // 2)]
        room_elders = ElderProfile.objects.filter(id__in=simulated[:smart_rooms]).select_related("resident")
        for i, elder in enumerate(room_elders):
            f = homes[i % len(homes)]
            name = f"{201 + i}房"
            m.SmartRoom.objects.create(facility=f, name=name, elder=elder)
            for type_ in ("air", "mattress", "smoke"):
                did = f"R{f.pk}-{elder.pk}-{type_}"
                Device.objects.get_or_create(device_id=did, defaults={
                    "type": type_, "elder": elder, "room": "bedroom" if type_ != "smoke" else "kitchen",
                    "token_hash": hash_token(demo_token(did))})
        helper = User.objects.filter(username="helper").first()
        if helper and homes:
            m.Staff.objects.create(facility=homes[0], name=helper.first_name or "值班护理员", role="caregiver", user=helper,
                                   certificates="养老护理员职业技能等级证书", training_hours=40)
        return len(facilities)
