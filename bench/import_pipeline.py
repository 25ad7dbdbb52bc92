"""The shared import pipeline on a large register: reading, header/alias/normalising, and the whole elder import.

    .venv/bin/python bench/import_pipeline.py [--rows 20000] [--write-rows 2000]

Builds a 20,000-row register (title row, aliased headers, dates as 1950.3.4) as .xlsx and as a GBK .csv, times
the pure part (read_file + parse), then a ceiling (a raw bulk insert of --write-rows rows) and the whole elder import
job of the same rows (validate with its duplicate query, bulk write, audit), with its ratio to the ceiling,
on the bench database (PostgreSQL by default; CARENET_BENCH_DATABASE_URL to change) inside a transaction that
is rolled back, so the bench database is left as it was.
"""
import argparse
import datetime as dt
import io
import time

import _django


def build(n: int):
    from openpyxl import Workbook

    from carenet.core import idcard
    header = ["序号", "老人姓名", "性别", "公民身份号码", "出生年月", "联系方式", "家庭住址", "所属社区", "居住状况", "特殊类别"]
    rows = []
    for i in range(n):
        birth = dt.date(1930 + i % 30, 1 + i % 12, 1 + i % 28)
        number = idcard.make("9901" + f"{i // 1000 % 100:02d}", birth, (i % 1000) // 2 * 2 + 1)
        rows.append([i + 1, f"老人{i}", "男", number, f"{birth.year}.{birth.month}", "13800000000", "幸福路1号",
                     "基准社区", "独居", "低保、高龄"])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(["基准社区老年人花名册"])
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    csv = "\r\n".join(",".join(str(c) for c in r) for r in [header, *rows]).encode("gbk")
    return buf.getvalue(), csv


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--write-rows", type=int, default=2_000, help="rows for the whole elder import (slower)")
    parser.add_argument("--per-row-rows", type=int, default=300,
                        help="rows for the old way of writing (a service call per elder, as before the bulk writes)")
    args = parser.parse_args()
    url = _django.setup()
    from django.db import transaction

    from carenet.core import imports
    from carenet.core.models import Division, User
    from carenet.core.tabular import parse, read_file
    importer = imports.get("people.elders")

    t0 = time.perf_counter()
    sum(range(10_000_000))
    print(f"CPU reference: sum(range(1e7)) {time.perf_counter() - t0:.2f} s (about 0.2 s on an idle core; "
          f"scale the figures below by the same ratio)")
    xlsx, csv = build(args.rows)
    print(f"{args.rows} rows: xlsx {len(xlsx) / 1e6:.1f} MB, csv {len(csv) / 1e6:.1f} MB; database {url.split('@')[-1]}")
    for name, data in (("xlsx", xlsx), ("csv", csv)):
        t0 = time.perf_counter()
        sheets = read_file(data, "bench." + name)
        t1 = time.perf_counter()
        parsed = parse(sheets, importer.schema, kinds={"division": lambda v, c: v})
        t2 = time.perf_counter()
        assert len(parsed.rows) == args.rows and not parsed.rejected, parsed.rejected[:1]
        print(f"  {name}: read {t1 - t0:.2f} s, header+aliases+normalise {t2 - t1:.2f} s "
              f"({args.rows / (t2 - t0):,.0f} rows/s pure)")

    with transaction.atomic():
        district = Division.objects.create(code="990100000000", name="基准区", level=1)
        street = Division.objects.create(code="990101000000", name="基准街道", level=2, parent=district)
        community = Division.objects.create(code="990101001000", name="基准社区", level=3, parent=street)
        user = User.objects.create(username="bench-importer", role="district_admin", division=district)
        small, _ = build(args.write_rows)

        # The ceiling, in the same run: a raw bulk insert of the same rows (household, resident with its ID
        # number encrypted and hashed, elder profile), with nothing read, parsed, checked or audited.
        from carenet.people.models import ElderProfile, Household, Resident
        sid = transaction.savepoint()
        t0 = time.perf_counter()
        parsed = parse(read_file(small, "bench.xlsx"), importer.schema, kinds={"division": lambda v, c: community})
        t_parse = time.perf_counter() - t0
        t0 = time.perf_counter()
        households = Household.objects.bulk_create(
            [Household(division=community, address="幸福路1号") for _ in parsed.rows], batch_size=1000)
        residents = []
        for row, household in zip(parsed.rows, households):
            r = Resident(name=row["name"], sex="M", birth_date=dt.date(1950, 1, 1), division=community,
                         household=household)
            r.set_id_number(row["id_number"])
            residents.append(r)
        Resident.objects.bulk_create(residents, batch_size=1000)
        ElderProfile.objects.bulk_create([ElderProfile(resident=r) for r in residents], batch_size=1000)
        ceiling = len(residents) / (time.perf_counter() - t0)
        transaction.savepoint_rollback(sid)
        print(f"  ceiling: raw bulk insert of the same {len(residents)} rows (household, resident, profile): "
              f"{ceiling:,.0f} rows/s (reading+parsing them alone: {len(residents) / t_parse:,.0f} rows/s)")

        # The whole import as staff run it: staged upload → the background job's body (read, parse, validate with
        # the district-wide duplicate query, bulk write with every audit row, report), as `run_imports` runs it.
        from carenet.core.models import ImportRun
        upload = imports.stage(importer, user, "bench.xlsx", small)
        sid = transaction.savepoint()
        t0 = time.perf_counter()
        queued = ImportRun.objects.create(importer=importer.key, user=user, division_path=district.path,
                                          filename="bench.xlsx", upload=upload, status="queued")
        run = imports.execute(queued.pk)
        elapsed = time.perf_counter() - t0
        rate = run.accepted / elapsed
        print(f"  elder import job (read, parse, validate, bulk write {run.accepted} elders with households, archives "
              f"and audit rows): {elapsed:.1f} s, {rate:,.0f} rows/s = {rate / ceiling:.2f} of the ceiling; "
              f"rejected {run.rejected}, status {run.status}")
        transaction.savepoint_rollback(sid)  # the same elders again below

        # Before, in the same run: the same job with the elder import's old write, one service call per record
        # (register_resident, save_elder, save_health_archive, save_contact, each with its audit row).
        if args.per_row_rows:
            old = imports.register(_per_row_importer())
            few, _ = build(args.per_row_rows)
            upload = imports.stage(old, user, "bench.xlsx", few)
            t0 = time.perf_counter()
            queued = ImportRun.objects.create(importer=old.key, user=user, division_path=district.path,
                                              filename="bench.xlsx", upload=upload, status="queued")
            run_old = imports.execute(queued.pk)
            elapsed_old = time.perf_counter() - t0
            rate_old = run_old.accepted / elapsed_old
            print(f"  before (one service call per record, {run_old.accepted} elders): {elapsed_old:.1f} s, "
                  f"{rate_old:,.0f} rows/s = {rate_old / ceiling:.2f} of the ceiling; bulk is {rate / rate_old:.1f}x")
        transaction.set_rollback(True)


def _per_row_importer():
    from carenet.people.importers import ElderImporter
    from carenet.people import services
    from carenet.people.models import ElderProfile, EmergencyContact, HealthArchive, Resident

    class PerRow(ElderImporter):
        key = "bench.elders_per_row"

        def write(self, rows, ctx):  # the elder import's write before the bulk service (kept for comparison)
            for row in rows:
                division, parsed = row["division"], row.data["id"]
                resident = Resident(name=row["name"], sex=row["sex"] or parsed.sex, birth_date=parsed.birth_date,
                                    phone=row.get("phone", ""), address=row.get("address", ""), division=division)
                services.register_resident(ctx.user, resident, parsed.number,
                                           hukou="rural" if division.code[9:12] >= "200" else "urban")
                elder = services.save_elder(ctx.user, ElderProfile(resident=resident, living=row["living"] or "with_children",
                                                                   care_level=row["care"] or "intact"),
                                            categories=row.get("categories", []))
                services.save_health_archive(ctx.user, HealthArchive(elder=elder))
                if row["contact"]:
                    services.save_contact(ctx.user, EmergencyContact(elder=elder, order=1, name=row["contact"],
                                                                     relation=row.get("contact_relation", "") or "家属",
                                                                     phone=row["contact_phone"]))
    return PerRow()


if __name__ == "__main__":
    main()
