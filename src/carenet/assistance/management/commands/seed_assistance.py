"""Demo data for social assistance: default standards, ~50 cases in every state, and monthly payrolls.

The history is replayed through the services with a moved clock, so every case has a real history,
audit rows, deadlines, and the payroll ledger has regular, back-pay and recovery lines.
"""
import datetime as dt
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from carenet.assistance import adapter, jobs, services
from carenet.assistance import models as m
from carenet.assistance.engine import payroll as epay
from carenet.core.scoping import subtree_q
from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.people.models import Resident


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


class Command(BaseCommand):
    help = "Load assistance standards, ~50 sample cases in various states and monthly payrolls (demo)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=50)
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--force", action="store_true", help="add cases even if some exist")
        parser.add_argument("--if-empty", action="store_true",
                            help="accepted for symmetry with `seed`; loading only into an empty app is the default")

    def handle(self, *args, cases, seed, force, if_empty=False, **opts):
        district = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code").first()
        if district is None:
            self.stdout.write("No district loaded; run `manage.py seed` first.")
            return
        n = services.seed_default_standards(district)
        self.stdout.write(f"standards: {n} default rows for {district.name}")
        if m.Case.objects.exists() and not force:
            self.stdout.write("Assistance cases already loaded; nothing else to do.")
            return
        real_now = adapter.now
        try:
            self._load(district, cases, random.Random(seed))
        finally:
            adapter.now = real_now

    # ------------------------------------------------------------------
    def _staff(self, district):
        approver = User.objects.filter(role=Role.APPROVER, division=district).order_by("pk").first() or \
            self._user("approver_seed", Role.APPROVER, district, "区审批员")
        approver2 = self._user("approver_b", Role.APPROVER, district, "区审批员（乙）")
        reviewers, workers = {}, {}
        for street in Division.objects.filter(parent=district).order_by("code"):
            rv = User.objects.filter(role=Role.REVIEWER, division=street).order_by("pk").first()
            reviewers[street.pk] = rv or self._user(f"reviewer_{street.code[-6:]}", Role.REVIEWER, street, "街道审核员")
        for comm in Division.objects.filter(level=Division.Level.COMMUNITY).order_by("code"):
            wk = User.objects.filter(role=Role.WORKER, division=comm).order_by("pk").first()
            if wk:
                workers[comm.pk] = wk
        return approver, approver2, reviewers, workers

    def _user(self, username, role, division, title):
        user, created = User.objects.get_or_create(username=username, defaults={
            "role": role, "division": division, "first_name": title})
        if created:
            user.set_unusable_password()
            user.save()
        return user

    def _clock(self, when: dt.datetime):
        adapter.now = lambda: when

    def _load(self, district, count, rnd):
        approver, approver2, reviewers, workers = self._staff(district)
        heads = list(Resident.objects.filter(relation="head", deceased_on__isnull=True)
                     .select_related("division", "household").order_by("pk"))
        if not heads:
            self.stdout.write("No residents; nothing to seed.")
            return
        # the demo worker's community first, so that login sees cases
        demo_comms = set(workers)
        def comm_of(r):
            d = r.division
            return d.parent_id if d.level == Division.Level.GRID else d.pk
        local = [r for r in heads if comm_of(r) in demo_comms]
        others = [r for r in heads if comm_of(r) not in demo_comms]
        rnd.shuffle(others)
        pool = local[:18] + others[: max(count - min(len(local), 18), 0)]
        today = services.today()
        plan = self._plan(len(pool), rnd)
        made = []
        for r, (program, target) in zip(pool, plan):
            try:
                case = self._case(r, program, target, rnd, approver, approver2, reviewers, workers, today)
            except Exception as exc:  # one odd resident must not stop the demo
                self.stdout.write(f"  skipped {r.name}: {services.error_message(exc)}")
                continue
            if case is not None:
                made.append(case)
        self.stdout.write(f"cases: {len(made)}")
        # a few fresh reports waiting in the demo worker's queue
        self._clock(_at(today, 8))
        waiting = Resident.objects.filter(assistance_cases__isnull=True, deceased_on__isnull=True).filter(
            Q(division__parent_id__in=demo_comms) | Q(division_id__in=demo_comms)).order_by("pk")[:3]
        for r in waiting:
            community = r.division.parent if r.division.level == Division.Level.GRID else r.division
            worker = workers.get(community.pk)
            if worker:
                services.grid_report(worker, applicant=r, route=rnd.choice(["dibao_urban", "temp_aid", "tekun"]),
                                     description=rnd.choice(["独居老人，家中无人照料，收入微薄", "家人突发重病住院，生活困难",
                                                             "房屋破旧，冬季取暖困难"]),
                                     lat=r.lat, lon=r.lon, requested_amount=1500)
        self._payrolls(district, approver, today)
        self.stdout.write("states: " + ", ".join(f"{s} {n}" for s, n in sorted(
            __import__("collections").Counter(c.state for c in m.Case.objects.all()).items())))

    def _plan(self, n, rnd):
        programs = (["dibao"] * 20 + ["tekun"] * 6 + ["elderly_allowance"] * 8 + ["temp_aid"] * 6 +
                    ["warm_fund"] * 3 + ["marginal"] * 3 + ["referral"] * 4)
        states = (["paying"] * 26 + ["accepted"] * 5 + ["surveyed"] * 4 + ["reviewed"] * 2 + ["in_notice"] * 4 +
                  ["submitted"] * 4 + ["rejected"] * 2 + ["stopped"] * 1 + ["raised"] * 1 + ["overdue"] * 3)
        rnd.shuffle(programs)
        rnd.shuffle(states)
        return [(programs[i % len(programs)], states[i % len(states)]) for i in range(n)]

    def _facts(self, program, r, rnd):
        size = max(r.household.members.count(), 1) if r.household_id else 1
        wage = Decimal(rnd.randrange(0, 500 * size, 10)) if program != "marginal" else Decimal(1150 * size)
        return {"incomes": [{"person_id": str(r.pk), "type": "wage", "amount": str(wage)},
                            {"person_id": str(r.pk), "type": "special_care", "amount": str(rnd.choice([0, 0, 200]))}],
                "assets": {"deposits": str(rnd.randrange(0, 8000, 500)), "vehicles": 0, "housing_units": 1},
                "expenses": [{"type": "medical", "amount": str(rnd.choice([0, 0, 150, 300]))}],
                "bank_account": "622848" + "".join(rnd.choice("0123456789") for _ in range(13)),
                "tekun": {"support_mode": rnd.choice(["dispersed", "dispersed", "centralised"]),
                          "care_level": rnd.choice(["self_care", "partial", "full"]), "monthly_income": "200",
                          "deposits": "1000", "supporters": []},
                "temp_aid": {"aid_type": "emergency", "household_status": "none", "special": False}}

    def _case(self, r, program, target, rnd, approver, approver2, reviewers, workers, today):
        street = r.division
        while street.level > Division.Level.STREET:
            street = street.parent
        reviewer = reviewers[street.pk]
        if program == "referral":
            self._clock(_at(today - dt.timedelta(days=rnd.randrange(1, 30))))
            services.refer(reviewer, resident=r, department=rnd.choice(["medical", "education", "housing", "employment"]),
                           need="网格员走访发现：" + rnd.choice(["大病住院费用高", "子女上学困难", "住房漏雨需改造", "家中劳动力失业"]))
            return None
        if program == "dibao":
            program = "dibao_rural" if r.household and r.household.hukou == "rural" else "dibao_urban"
        if program == "elderly_allowance":
            r = Resident.objects.filter(subtree_q(street.path), birth_date__lte=today.replace(
                year=today.year - 81)).exclude(assistance_cases__program="elderly_allowance").order_by("?").first() or r
        if program == "tekun":
            r = Resident.objects.filter(subtree_q(street.path), birth_date__lte=today.replace(
                year=today.year - 65)).exclude(assistance_cases__isnull=False).order_by("?").first() or r
        community = r.division.parent if r.division.level == Division.Level.GRID else r.division
        worker = workers.get(community.pk, reviewer)
        recent = target in ("accepted", "surveyed", "reviewed", "in_notice", "submitted")
        if target == "overdue":
            start = today - dt.timedelta(days=rnd.randrange(30, 45))
        elif recent:
            start = today - dt.timedelta(days={"accepted": 3, "surveyed": 8, "reviewed": 12, "in_notice": 16,
                                               "submitted": 30}[target] + rnd.randrange(0, 3))
        else:
            start = dt.date(2026, 1, 5) + dt.timedelta(days=rnd.randrange(0, 200))
        day = start
        self._clock(_at(day, 9))
        requested = {"temp_aid": rnd.choice([600, 1500, 2800, 5000]), "warm_fund": rnd.choice([2000, 3000, 6000])}.get(program)
        situation = {"dibao_urban": "下岗失业，家庭收入低", "dibao_rural": "务农收入微薄，家人患病",
                     "tekun": "无劳动能力、无生活来源、无法定赡养人", "elderly_allowance": "年满80周岁，申请高龄津贴",
                     "temp_aid": "突发疾病住院，生活暂时困难", "warm_fund": "家中失火，急需救助",
                     "marginal": "收入略高于低保标准，申请低保边缘认定"}[program]
        channel = rnd.choice(["window", "community", "grid"])
        if channel == "grid":  # found by a grid worker, then accepted by the community (受理)
            rep = services.grid_report(worker, applicant=r, route=program, description=situation,
                                       requested_amount=requested, lat=r.lat, lon=r.lon)
            case = services.accept_report(worker, rep, facts=self._facts(program, r, rnd))
        else:
            case = services.intake(worker, program=program, applicant=r, channel=channel, reason=situation,
                                   facts=self._facts(program, r, rnd), requested_amount=requested)
        if target in ("accepted", "overdue"):
            return case
        day += dt.timedelta(days=rnd.randrange(2, 6))
        self._clock(_at(day, 14))
        case = services.record_survey(worker, case, visited_on=day, visitors=f"{worker.display_name}、{reviewer.display_name}",
                                      notes="入户核实家庭人口、收入和财产状况，居住条件简陋。", facts=self._facts(program, r, rnd))
        if target == "surveyed":
            return case
        day += dt.timedelta(days=rnd.randrange(2, 5))
        self._clock(_at(day, 10))
        negative = target == "rejected"
        case = services.review(reviewer, case, recommend=not negative,
                               opinion="经调查，家庭经济状况不符合条件" if negative else "情况属实，同意上报")
        if target == "reviewed":
            return case
        if not negative:
            day += dt.timedelta(days=1)
            self._clock(_at(day, 9))
            case = services.start_notice(reviewer, case)
            if target == "in_notice":
                return case
            day = case.notice_ends_on + dt.timedelta(days=1)
            self._clock(_at(day, 9))
            case = services.submit(reviewer, case)
        if target == "submitted":
            return case
        day += dt.timedelta(days=rnd.randrange(1, 4))
        self._clock(_at(day, 15))
        decider = approver if rnd.random() < 0.7 else approver2
        if negative or not case.eligible:
            return services.reject(decider, case, reason="家庭人均收入高于当地标准，不符合条件" if case.eligible is False
                                   else "经审批，不符合救助条件")
        return services.approve(decider, case, opinion="同意")

    def _payrolls(self, district, approver, today):
        first = m.Entitlement.objects.order_by("start_month").values_list("start_month", flat=True).first()
        if first is None:
            return
        month = first
        last = epay.month_of(today)
        changed = False
        while month <= last:
            if not changed and month >= epay.add_months(last, -1):
                self._adjust(approver, month)
                changed = True
            self._clock(_at(month.replace(day=5), 9))
            run = services.start_payroll(approver, run_month=month, program="*", area=district, launch=False)
            run = jobs.execute(run.pk)
            self.stdout.write(f"payroll {month:%Y-%m}: {run.lines} lines, {run.total} yuan")
            month = epay.add_months(month, 1)

    def _adjust(self, approver, month):
        """A raise effective three months back (back pay) and a retroactive stop (recovery)."""
        paying = list(m.Case.objects.filter(state="paying", program__in=["dibao_urban", "dibao_rural"],
                                            entitlement__start_month__lt=epay.add_months(month, -3)).order_by("pk")[:2])
        if len(paying) < 2:
            return
        self._clock(_at(month.replace(day=2), 11))
        raised, stopped = paying
        services.change_payment(approver, raised, action="raise", monthly_amount=raised.monthly_amount + Decimal("150"),
                                effective_month=epay.add_months(month, -3),
                                reason="复核发现家庭成员患重病，医疗支出增加，自三个月前起增发")
        services.stop_payment(approver, stopped, effective_month=epay.add_months(month, -2),
                              reason="复核发现家庭成员已就业，人均收入超过低保标准，停发并追回多发资金")
