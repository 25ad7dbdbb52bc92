"""carenet link A.csv [B.csv] --out pairs.csv

Columns: record_id,name,id_number,birth_date,sex,division_code,address,phone (any may be empty).
One file: deduplicate it. Two files: link A to B. Writes left_id,right_id,probability for every pair with
probability >= 0.5 (the model's thresholds: see matching/linkage/model.py and docs/matching.md).
"""
import csv

from carenet.core import exports
import time

from django.core.management.base import BaseCommand, CommandError

COLUMNS = ["record_id", "name", "id_number", "birth_date", "sex", "division_code", "address", "phone"]


def read(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "record_id" not in reader.fieldnames:
                raise CommandError(f"{path}: the header must include record_id (columns: {','.join(COLUMNS)})")
            unknown = set(reader.fieldnames) - set(COLUMNS)
            if unknown:
                raise CommandError(f"{path}: unknown columns {', '.join(sorted(unknown))}")
            rows = [{c: (r.get(c) or "") for c in COLUMNS} for r in reader]
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    ids = [r["record_id"] for r in rows]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise CommandError(f"{path}: record_id must be present and unique")
    return rows


class Command(BaseCommand):
    help = "Deduplicate one file or link two files of person records; writes pairs with probability >= 0.5."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--out", required=True)
        parser.add_argument("--threshold", type=float, default=0.5)

    def handle(self, *args, files, out, threshold, **opts):
        from carenet.matching.linkage import engine

        if len(files) > 2:
            raise CommandError("give one file (deduplicate) or two (link A to B)")
        t0 = time.perf_counter()
        data = [read(f) for f in files]
        pairs = engine.dedupe(data[0], threshold) if len(data) == 1 else engine.link(data[0], data[1], threshold)
        pairs.sort(key=lambda p: (-p.probability, p.left_id, p.right_id))
        with open(out, "w", encoding="utf-8", newline="") as fh:
            w = exports.SafeCsvWriter(fh)  # no formulas out of names (issue 9 §2)
            w.writerow(["left_id", "right_id", "probability"])
            for p in pairs:
                w.writerow([p.left_id, p.right_id, f"{p.probability:.6f}"])
        self.stdout.write(f"{len(pairs)} pairs >= {threshold} written to {out} "
                          f"({sum(len(d) for d in data)} records, {time.perf_counter() - t0:.1f} s)")
