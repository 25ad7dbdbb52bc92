"""Demo data for residents' requests: the starter catalogue (always loaded, idempotent), then a few hundred
service applications, community requests (七单) and small wishes in every state, backdated over the last
months through the real services (so every step has its event and audit row). Deterministic."""
import contextlib
import datetime as dt
import random

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from carenet.civic import departments
from carenet.civic import models as m
from carenet.civic import services
from carenet.civic.engine.common import CivicError, choices
from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.people.models import Resident

DEMO_HOME_CODE = "246810"  # the demo elder's home-page code (shown on the home login page in the demo)

COMMUNITY = [
    ("light", "小区路灯不亮", "3号楼到5号楼之间的路灯坏了一个多月，晚上老人出门很危险。"),
    ("road", "人行道破损", "菜市场门口人行道砖块松动，下雨积水，老人容易绊倒。"),
    ("sanitation", "垃圾清运不及时", "小区东门垃圾桶经常满溢，气味很大。"),
    ("elderly", "希望开设老年食堂", "社区独居老人多，希望就近开一个老年食堂。"),
    ("safety", "楼道堆放杂物", "2单元楼道堆满纸箱和旧家具，有消防隐患。"),
    ("green", "小游园需要增设座椅", "小游园散步的老人多，没有地方休息。"),
    ("parking", "电动车乱停放", "单元门口电动车乱停，轮椅进出困难。"),
    ("water", "下水道堵塞", "4号楼下水道经常堵塞返水。"),
    ("neighbour", "楼上噪音扰民", "楼上住户深夜装修，影响休息。"),
    ("elderly", "加装楼梯扶手", "老旧楼梯没有扶手，老人上下楼困难。"),
]
WISHES = ["一台收音机", "冬天的棉被", "理发上门服务", "老花镜一副", "陪同去医院复查", "学会用手机视频通话",
          "一双防滑鞋", "帮忙修理漏水的水龙头", "一套大字版象棋", "一个血压计"]
CLAIMERS = ["红马甲志愿服务队", "区税务局党支部", "社区党员先锋岗", "爱心企业 某超市", "大学生志愿者"]


@contextlib.contextmanager
def clock(at):
    real = services.now
    services.now = lambda: at
    try:
        yield
    finally:
        services.now = real


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--community", type=int, default=120)
        parser.add_argument("--wishes", type=int, default=60)
        parser.add_argument("--seed", type=int, default=14)
        parser.add_argument("--if-empty", action="store_true", help="only the catalogue when requests exist")

    def handle(self, *args, requests, community, wishes, seed, if_empty, **opts):
        created, _updated = services.load_catalogue()
        self.stdout.write(f"catalogue: {m.ServiceItem.objects.count()} items ({created} new)")
        district = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code").first()
        if district is not None:
            depts = departments.ensure_departments(district)
            self.department_logins(depts, district)
            self.stdout.write(f"departments: {len(depts)} with their own logins (dept_<code>)")
        if if_empty and (m.ServiceRequest.objects.exists() or m.CommunityRequest.objects.exists()):
            self.stdout.write("civic requests already present")
            return
        communities = list(Division.objects.filter(level=Division.Level.COMMUNITY).order_by("code"))
        admin = User.objects.filter(role=Role.DISTRICT_ADMIN).order_by("id").first() or \
            User.objects.filter(is_superuser=True).first()
        if not communities or admin is None:
            self.stdout.write("no communities or administrator: run `manage.py seed` first")
            return
        self.rnd = random.Random(seed)
        self.admin = admin
        self.appliers = list(User.objects.filter(role__in=[Role.WORKER, Role.OPERATOR])) or [admin]
        self.now = timezone.now().replace(microsecond=0)
        services.SEND_NOTIFICATIONS = False  # history, not news: nobody is told about last month's steps
        try:
            with transaction.atomic():   # the notifications queued on commit run (and are skipped) inside the try
                self.home_access(communities)
                n1 = self.service_requests(requests, communities)
                n2 = self.community_requests(community, communities)
                n3 = self.wishes(wishes, communities)
                escalated = services.escalate_overdue()
        finally:
            services.SEND_NOTIFICATIONS = True   # the seeder may run inside a longer process (tests, the demo command)
        self.stdout.write(f"civic demo: {n1} service applications ({escalated} escalated), {n2} community "
                          f"requests, {n3} small wishes")

    def department_logins(self, depts, district):
        """One demo login per department (`dept_d01`…), password as the other demo accounts."""
        from carenet.demo.loader import DEMO_PASSWORD

        for d in depts:
            user, _created = User.objects.get_or_create(username=f"dept_{d.code.lower()}",
                                                        defaults={"role": Role.DEPARTMENT, "division": district})
            user.role, user.division, user.first_name = Role.DEPARTMENT, district, d.name[:30]
            user.set_password(DEMO_PASSWORD)
            user.save()
            m.DepartmentMember.objects.update_or_create(user=user, defaults={"department": d})

    def at(self, days_ago, hour=None):
        t = self.now - dt.timedelta(days=days_ago)
        return t.replace(hour=hour if hour is not None else self.rnd.randint(8, 17), minute=self.rnd.randint(0, 59))

    def home_access(self, communities):
        r = Resident.objects.filter(division__path__startswith=communities[0].path, elder__isnull=False).exclude(
            phone="").order_by("id").first()
        if r is None:
            return
        from django.contrib.auth.hashers import make_password

        m.HomeAccess.objects.update_or_create(resident=r, defaults={"phone": r.phone, "code_hash":
                                                                    make_password(DEMO_HOME_CODE), "issued_by": self.admin})
        self.stdout.write(f"home page demo: phone {r.phone} code {DEMO_HOME_CODE} ({r.name})")

    def answers(self, item):
        out = {}
        for f in item.fields:
            if f["datatype"] == "number":
                out[f["code"]] = str(self.rnd.randint(1, 5) * 100)
            elif f["datatype"] == "datetime":
                out[f["code"]] = (self.now.date() + dt.timedelta(days=self.rnd.randint(1, 20))).isoformat()
            elif f["datatype"].endswith("valuelist"):
                v = self.rnd.choice([k for k, _n in choices(f)])
                out[f["code"]] = [v] if f["datatype"] == "multivaluelist" else v
            elif f["datatype"] == "text":
                out[f["code"]] = "行动不便，希望尽快办理。"
            else:
                out[f["code"]] = "6217000012345678" if "bank" in f["code"] else "见申请"
        return out

    def service_requests(self, n, communities):
        items = list(m.ServiceItem.objects.filter(active=True))
        popular = items[:12] + [i for i in items if i.name in ("养老金领取资格认证", "城乡居民医保参保缴费",
                                                                "高龄津贴申请", "水费代缴服务", "残疾人证换领")] * 3
        residents = list(Resident.objects.filter(division__level__gte=Division.Level.COMMUNITY, deceased_on__isnull=True)
                         .select_related("division").order_by("id")[:800])
        plans = (["submitted"] * 8 + ["routed"] * 18 + ["need_docs"] * 8 + ["done"] * 18 + ["refused"] * 6 +
                 ["rated"] * 30 + ["withdrawn"] * 3 + ["reopened"] * 4 + ["overdue"] * 5)
        count = 0
        for _ in range(n):
            item, who, plan = self.rnd.choice(popular), self.rnd.choice(residents), self.rnd.choice(plans)
            age = self.rnd.randint(0, 4) if plan == "submitted" else self.rnd.randint(25, 60) if plan == "overdue" \
                else self.rnd.randint(2, 80)
            t = self.at(age)
            user = None if self.rnd.random() < 0.55 else self.rnd.choice(self.appliers)
            if user is not None and not user.is_superuser and user.division and not who.division.path.startswith(
                    user.division.path):
                user = None
            try:
                with clock(t):
                    req = services.submit_request(item=item, answers=self.answers(item), applicant=who, user=user,
                                                  consent_note="老人电话同意代办" if user else "")
                self.walk(req, plan, t, who)
            except CivicError as exc:
                self.stderr.write(f"skipped one demo request: {exc}")
                continue
            count += 1
        return count

    def step(self, req, action, t, *, resident=None, reason="", data=None):
        with clock(t):
            return services.act_on_request(req, action, user=None if resident else self.admin, resident=resident,
                                           reason=reason, data=data or {})

    def walk(self, req, plan, t, who):
        if plan == "submitted":
            return
        t = t + dt.timedelta(hours=self.rnd.randint(1, 20))
        req = self.step(req, "route", t, data={} if self.rnd.random() < 0.7 else {"to": f"{req.division.name}便民服务站"})
        if plan in ("routed", "overdue"):
            return
        if plan == "need_docs" or self.rnd.random() < 0.2:
            t += dt.timedelta(days=1)
            req = self.step(req, "request_docs", t, reason="请补充" + "、".join(req.item.documents[:1] or ["身份证"]) + "照片")
            if plan == "need_docs":
                return
            t += dt.timedelta(days=self.rnd.randint(1, 3))
            req = self.step(req, "supply_docs", t, resident=who)
        if plan == "withdrawn":
            self.step(req, "withdraw", t + dt.timedelta(hours=3), resident=who, reason="已自行办理")
            return
        days = self.rnd.randint(1, max(1, int(req.item.deadline_days * 1.6)))
        t += dt.timedelta(days=days)
        if t > self.now:
            return
        if plan == "refused":
            self.step(req, "refuse", t, reason="经核实不符合申请条件（家庭收入超过标准）")
            return
        req = self.step(req, "complete", t, data={"note": "已办结，结果已告知本人"})
        if plan in ("rated", "reopened"):
            t2 = t + dt.timedelta(hours=self.rnd.randint(2, 48))
            score = self.rnd.choices([5, 4, 3, 2, 1], [60, 25, 8, 4, 3])[0]
            if t2 <= self.now:
                req = self.step(req, "rate", t2, resident=who, data={"score": score})
            if plan == "reopened" and t2 + dt.timedelta(days=1) <= self.now:
                try:
                    self.step(req, "reopen", t2 + dt.timedelta(days=1), resident=who, reason="证明上的名字写错了")
                except CivicError:
                    pass

    def community_requests(self, n, communities):
        plans = ["received", "screened", "planned", "council", "revising", "published", "delivering", "completed",
                 "closed", "closed", "closed", "merged", "out_of_scope", "withdrawn", "failed_vote"]
        staff = {c.pk: self.staff_for(c) for c in communities}
        count, opened = 0, []
        for i in range(n):
            div = self.rnd.choice(communities[:12])
            cat, title, desc = self.rnd.choice(COMMUNITY)
            plan = plans[i % len(plans)]
            t = self.at(self.rnd.randint(3, 100))
            who = self.rnd.choice(list(Resident.objects.filter(division__path__startswith=div.path + "/")
                                       .exclude(lat=None).order_by("id")[:50]) or [None])
            lat = (who.lat + self.rnd.uniform(-0.001, 0.001)) if who and who.lat else None
            lon = (who.lon + self.rnd.uniform(-0.001, 0.001)) if who and who.lon else None
            user = staff[div.pk]
            with clock(t):
                req = services.receive(user, division=div, category=cat, title=title, description=desc,
                                       source=self.rnd.choice(m.Source.values), reporter=who, lat=lat, lon=lon, at=t)
            count += 1
            try:
                self.walk_community(user, req, plan, t, opened)
            except CivicError as exc:
                self.stderr.write(f"demo community request stopped early: {exc}")
            opened.append(req)
        return count

    def staff_for(self, division):
        return (User.objects.filter(role=Role.WORKER, division=division).first()
                or User.objects.filter(role=Role.REVIEWER, division=division.parent).first() or self.admin)

    def walk_community(self, user, req, plan, t, opened):
        def act(action, hours=24, by=None, **kw):
            nonlocal t, req
            t = t + dt.timedelta(hours=hours)
            req = services.community_act(by or user, req, action, at=min(t, self.now), **kw)

        if plan == "received":
            return
        if plan == "merged":
            target = next((o for o in reversed(opened) if o.division_id == req.division_id
                           and o.category == req.category and o.state not in ("merged", "out_of_scope", "withdrawn", "closed")), None)
            if target is not None:
                act("merge", data={"into": target.pk})
                return
            plan = "out_of_scope"
        if plan == "out_of_scope":
            act("out_of_scope", reason="属于物业公司职责，已转告物业并告知居民")
            return
        act("screen")
        if plan == "screened":
            return
        if plan == "withdrawn":
            act("withdraw", reason="居民已自行解决")
            return
        cost = self.rnd.choice([800, 1500, 3200, 12000, 26000])
        act("draft_plan", data={"plan": "社区协调相关单位现场查看并组织整改，费用从社区惠民资金列支。", "cost": cost,
                                "owner": f"{req.division.name}居委会"})
        if plan == "planned":
            return
        act("to_council")
        if plan == "council":
            return
        if plan == "failed_vote":
            act("decide", data={"members": 9, "yes": 3, "no": 4, "abstain": 1})
            act("revise", data={"plan": req.plan + "（按议事会意见压缩费用）", "cost": cost // 2})
            return
        act("decide", data={"members": 9, "yes": self.rnd.randint(6, 9), "no": 0, "abstain": 0})
        if plan == "revising":
            return
        act("publish", by=self.admin)
        if plan == "published":
            return
        act("start_delivery")
        act("progress", hours=48, data={"note": "已联系施工单位，材料进场"})
        if plan == "delivering":
            return
        act("complete", hours=72, data={"result": "已完成整改，经现场验收"})
        if self.rnd.random() < 0.6:
            with clock(t):
                services.save_answer(self.admin, req, "感谢您的反映，问题已按议事会通过的方案解决。", publish=True)
        if plan == "completed":
            return
        act("confirm", data={"confirmed_by": "电话回访，居民表示满意"})

    def wishes(self, n, communities):
        count = 0
        for i in range(n):
            div = self.rnd.choice(communities[:12])
            user = self.staff_for(div)
            who = self.rnd.choice(list(Resident.objects.filter(division__path__startswith=div.path + "/",
                                                               elder__isnull=False).order_by("id")[:50]) or [None])
            t = self.at(self.rnd.randint(1, 60))
            w = services.publish_wish(user, division=div, title=self.rnd.choice(WISHES), beneficiary=who,
                                      description=f"为{who.name[0] if who else ''}老人" if who else "", at=t)
            count += 1
            plan = i % 5
            if plan == 0:
                continue
            t += dt.timedelta(days=1)
            services.wish_act(user, w, "claim", data={"claimer": self.rnd.choice(CLAIMERS)}, at=t)
            if plan == 1 and i % 10 == 1:
                services.wish_act(user, w, "cancel", reason="老人已搬去子女家居住", at=t)
            if plan >= 2:
                services.wish_act(user, w, "deliver", at=t + dt.timedelta(days=2))
            if plan >= 3:
                services.wish_act(user, w, "confirm", at=t + dt.timedelta(days=3))
        return count
