"""Demo department files with planted cases: deaths of paid beneficiaries (one spelt in traditional characters
with a legacy 15-digit ID), near relatives of staff (same township: flagged; another township: not flagged;
civil affairs: flagged), and rows a clerk would get wrong. Loaded through the same service as the page."""
import datetime as dt

from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone
from opencc import OpenCC

from carenet.assistance import models as am
from carenet.core import pii
from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.matching import models as m
from carenet.matching import services
from carenet.people.models import Household, Resident


def _csv(header, rows) -> bytes:
    return ("\n".join([",".join(header)] + [",".join(str(c) for c in r) for r in rows]) + "\n").encode("gb18030")


class Command(BaseCommand):
    help = "Load demo department files with planted integrity findings, risk alerts and a discovery list."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true")

    def handle(self, *args, if_empty=False, **opts):
        if if_empty and m.Source.objects.exists():
            self.stdout.write("matching demo data already present")
            return
        district = Division.objects.filter(level=Division.Level.DISTRICT).first()
        admin = User.objects.filter(role=Role.DISTRICT_ADMIN, division=district).order_by("id").first()
        if district is None or admin is None:
            self.stdout.write("no district or district administrator yet: run seed first")
            return
        ents = list(am.Entitlement.objects.filter(stop_month__isnull=True, case__state=am.State.PAYING)
                    .annotate(n=Count("ledger")).filter(n__gte=3).select_related("payee", "township")
                    .order_by("id")[:6])
        if len(ents) < 4:
            self.stdout.write("not enough paying cases with three months paid: run seed_assistance first")
            return
        t2s = OpenCC("s2t")

        deaths = []
        for i, ent in enumerate(ents[:2]):  # planted: died in the second month paid
            second = ent.ledger.order_by("period").values_list("period", flat=True)[1]
            idn = pii.decrypt(ent.payee.id_number_enc)
            name = ent.payee.name if i == 0 else t2s.convert(ent.payee.name)
            if i == 1 and idn.startswith(("19",), 6):
                idn = idn[:6] + idn[8:17]  # a legacy 15-digit number
            deaths.append((name, idn, (second + dt.timedelta(days=9)).isoformat()))
        paid = {e.payee_id for e in ents}
        for r in Resident.objects.exclude(pk__in=paid).order_by("id")[:8]:  # deaths of people not paid
            deaths.append((r.name, pii.decrypt(r.id_number_enc), "2025-12-01"))
        deaths.append(("查无此人", "3408991950", "2025-12-01"))  # a bad row: comes back with its reason
        deaths.append(("日期不详", pii.decrypt(ents[3].payee.id_number_enc), "不详"))
        src = services.create_source(admin, name="公安殡葬死亡火化名单", kind=m.Kind.DEATHS, department="公安/民政殡葬",
                                     division=district)
        load = services.load_file(admin, src, _csv(["死者姓名", "公民身份号码", "火化日期"], deaths), "2026年死亡火化名单.csv")
        self.stdout.write(f"deaths: {load.rows} rows, {load.accepted} accepted, {load.linked} linked")

        staff = []
        for ent, unit, civil in ((ents[2], ent_township(ents[2]), "否"),       # same township: flagged
                                 (ents[3], other_township(ents[3]), "否"),     # another township: not flagged
                                 (ents[4], other_township(ents[4]), "是")):    # civil affairs: flagged
            staff.append(("李" + "明华强"[len(staff)], "乡镇人民政府" if civil == "否" else "区民政局", civil, unit,
                          ent.payee.name, pii.decrypt(ent.payee.id_number_enc), "子女"))
        src2 = services.create_source(admin, name="组织部干部及近亲属", kind=m.Kind.STAFF, department="组织部/人社局",
                                      division=district)
        load2 = services.load_file(admin, src2, _csv(["姓名", "工作单位", "是否民政系统", "单位区划代码", "亲属姓名",
                                                      "亲属身份证号", "关系"], staff), "干部亲属.csv")
        self.stdout.write(f"staff: {load2.rows} rows, {load2.accepted} accepted; "
                          f"findings now {m.Finding.objects.count()}")
        seed_feeds(self, admin, district, ents)


def seed_feeds(cmd, admin, district, ents) -> None:
    """Assets, income and other areas' rolls against paid beneficiaries (integrity findings); hospital bills,
    disaster losses, unemployment and school enrolment of unassisted households (risk alerts); the disability
    registry with a household whose members are all severely disabled (a discovery screen)."""
    from carenet.matching import discovery, monitoring

    def idn(r):
        return pii.decrypt(r.id_number_enc)

    def load(name, kind, dept, header, rows, filename):
        src = services.create_source(admin, name=name, kind=kind, department=dept, division=district)
        ld = services.load_file(admin, src, _csv(header, rows), filename)
        cmd.stdout.write(f"{name}: {ld.rows} rows, {ld.accepted} accepted, {ld.linked} linked")

    car, earner, twice = ents[4].payee, ents[5].payee if len(ents) > 5 else ents[0].payee, ents[2].payee
    load("公安车辆登记信息", m.Kind.ASSETS, "公安交管", ["姓名", "身份证号", "财产类型", "财产描述", "价值"],
         [(car.name, idn(car), "车辆", "小型轿车", "98000"), ("某某", "3408991950", "车辆", "货车", "很多")], "车辆.csv")
    load("社保缴费工资", m.Kind.INCOME, "人社局", ["姓名", "身份证号", "月收入", "工作单位"],
         [(earner.name, idn(earner), "4200", "某物流公司")], "缴费工资.csv")
    load("邻县低保发放名册", m.Kind.BENEFITS, "邻县民政局", ["姓名", "身份证号", "救助项目", "发放地区", "月发放金额"],
         [(twice.name, idn(twice), "城市低保", "邻县", "680")], "邻县名册.csv")
    assisted = set(am.Entitlement.objects.values_list("payee_id", flat=True))
    households = [h for h in Household.objects.annotate(n=Count("members")).filter(n__gte=2).order_by("id")[:60]
                  if not any(r.pk in assisted for r in h.members.all())]
    if len(households) < 5:
        cmd.stdout.write("not enough unassisted households for the monitoring demo")
        return
    today = timezone.localdate()
    heads = [h.members.filter(relation=Resident.Relation.HEAD).first() or h.members.order_by("id").first()
             for h in households]
    load("医保结算个人自付", m.Kind.MEDICAL, "医保局", ["姓名", "身份证号", "结算日期", "个人自付"],
         [(heads[0].name, idn(heads[0]), (today - dt.timedelta(days=40)).isoformat(), "18600"),
          (heads[0].name, idn(heads[0]), (today - dt.timedelta(days=10)).isoformat(), "9300"),
          (heads[1].name, idn(heads[1]), today.isoformat(), "1200")], "医保结算.csv")
    load("应急受灾登记", m.Kind.DISASTER, "应急管理局", ["姓名", "身份证号", "受灾日期", "灾种", "损失金额"],
         [(heads[2].name, idn(heads[2]), (today - dt.timedelta(days=20)).isoformat(), "洪涝", "36000")], "受灾.csv")
    # 因突发: two working-age members of one unassisted household registered unemployed (25 + 25);
    # 因学: the youngest member of a paid household at university, another member unemployed (30 + 25)
    working = Resident.objects.filter(birth_date__gt=today.replace(year=today.year - 58),
                                      birth_date__lt=today.replace(year=today.year - 17), household__isnull=False)
    pair = next((list(working.filter(household_id=h)[:2]) for h in working.exclude(pk__in=assisted)
                 .values_list("household_id", flat=True).distinct()[:50] if working.filter(household_id=h).count() >= 2), [])
    paid_households = set(am.Entitlement.objects.filter(stop_month__isnull=True, program__in=monitoring.LOW_INCOME_PROGRAMS)
                          .exclude(case__household_id=None).values_list("case__household_id", flat=True))
    with_two = [h for h in paid_households if working.filter(household_id=h).count() >= 2]
    paid_households = set(with_two) or paid_households
    student = working.filter(household_id__in=paid_households).order_by("-birth_date").first()
    jobless = working.filter(household_id=student.household_id).exclude(pk=student.pk).first() if student else None
    load("失业登记", m.Kind.UNEMPLOYMENT, "人社局", ["姓名", "身份证号", "失业登记日期"],
         [(r.name, idn(r), today.isoformat()) for r in pair + ([jobless] if jobless else [])], "失业.csv")
    if student:
        load("高校在读学生", m.Kind.SCHOOL, "教育局", ["姓名", "身份证号", "就读学校", "学历层次"],
             [(student.name, idn(student), "重庆某大学", "本科")], "学籍.csv")
    both = list(households[4].members.all())
    load("残联残疾人名册", m.Kind.DISABILITY, "残联", ["姓名", "身份证号", "残疾等级", "残疾类别"],
         [(r.name, idn(r), "一级" if i == 0 else "二级", "肢体" if i == 0 else "视力") for i, r in enumerate(both)]
         + [(heads[1].name, idn(heads[1]), "三级", "听力")], "残疾人名册.csv")
    run = discovery.run_screen(admin, code="all_disabled", params={}, division=district)
    cmd.stdout.write(f"risk alerts {m.RiskAlert.objects.count()}; screen found {run.found}, new {run.new}")


def ent_township(ent) -> str:
    return ent.township.code


def other_township(ent) -> str:
    other = Division.objects.filter(level=Division.Level.STREET).exclude(pk=ent.township_id).order_by("code").first()
    return other.code if other else "000000000000"
