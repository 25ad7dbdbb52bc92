"""Demo department files with planted cases: deaths of paid beneficiaries (one spelt in traditional characters
with a legacy 15-digit ID), near relatives of staff (same township: flagged; another township: not flagged;
civil affairs: flagged), and rows a clerk would get wrong. Loaded through the same service as the page."""
import datetime as dt

from django.core.management.base import BaseCommand
from django.db.models import Count
from opencc import OpenCC

from carenet.assistance import models as am
from carenet.core import pii
from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.matching import models as m
from carenet.matching import services
from carenet.people.models import Resident


def _csv(header, rows) -> bytes:
    return ("\n".join([",".join(header)] + [",".join(str(c) for c in r) for r in rows]) + "\n").encode("gb18030")


class Command(BaseCommand):
    help = "Load demo department files (deaths, staff relatives) with planted integrity findings."

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


def ent_township(ent) -> str:
    return ent.township.code


def other_township(ent) -> str:
    other = Division.objects.filter(level=Division.Level.STREET).exclude(pk=ent.township_id).order_by("code").first()
    return other.code if other else "000000000000"
