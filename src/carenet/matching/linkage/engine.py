"""Linkage behind the project's own interface. Pure Python, no Django; splink on DuckDB underneath.

- `dedupe(records)` and `link(a, b)` give scored pairs (left_id, right_id, probability, weight);
- `PersonIndex` keeps stable person ids: `build()` clusters a first load, `add()` links a monthly load to
  the persons already known (splink's predict_between) and to itself (predict_within), without relinking
  the existing records; pairs between REVIEW and ACCEPT come back for the review queue.

Records are dicts with record_id,name,id_number,birth_date,sex,division_code,address,phone (any empty).
The same model would run on Spark (splink's SparkAPI) for a province; only `_db()` changes.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

from . import model as M
from .normalize import feature_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    left_id: str
    right_id: str
    probability: float
    weight: float


def _db():
    from splink import DuckDBAPI

    return DuckDBAPI()


def _model(link_type: str = "dedupe_only", model: dict | None = None) -> dict:
    m = copy.deepcopy(model or M.load_model())
    m["link_type"] = link_type
    m["linker_uid"] = None
    m["blocking_rules_to_generate_predictions"] = M.blocking_rules()  # the current rules, not the trained copy
    return m


# Term frequencies need a population: below this many records the name's frequency in the input says
# nothing (two 王小明 among three records is not a common name), so the adjustment is made neutral.
TF_MIN_RECORDS = 5_000


def _tf_neutral(table, model: dict):
    """Add tf_name_s equal to the exact-name u probability: a zero term-frequency adjustment."""
    import pyarrow as pa

    u = next(lv["u_probability"] for c in model["comparisons"] if c["output_column_name"] == "name"
             for lv in c["comparison_levels"] if lv.get("tf_adjustment_column") == "name_s")
    return table.append_column("tf_name_s", pa.array([u] * table.num_rows, pa.float64()))


def _features(records, model: dict, total: int):
    table = feature_table(records)
    return _tf_neutral(table, model) if total < TF_MIN_RECORDS else table


def _linker(tables, settings):
    from splink import Linker

    return Linker(tables, settings, log_level=None)


def _pairs(sdf, flip: set[str] | None = None) -> list[Pair]:
    tbl = sdf.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability, match_weight") \
        if hasattr(sdf, "as_duckdbpyrelation") else None
    rows = tbl.fetchall() if tbl is not None else [
        (r["unique_id_l"], r["unique_id_r"], r["match_probability"], r["match_weight"]) for r in sdf.as_record_dict()]
    return [Pair(str(a), str(b), float(p), float(w)) for a, b, p, w in rows]


def train_model(records: list[dict]) -> dict:
    """Train on a population without labels; returns the model (a splink settings dict with weights)."""
    db = _db()
    con = db.duckdb_con.cursor()
    con.register("_train_arrow", feature_table(records))
    con.execute("CREATE TABLE train_input AS SELECT * FROM _train_arrow")
    con.close()
    linker = _linker(db.register("train_input"), M.settings())
    linker = M.train(linker, "train_input")
    return linker.misc.save_model_to_json()


def dedupe(records: list[dict], threshold: float = M.REVIEW, model: dict | None = None) -> list[Pair]:
    db = _db()
    settings = _model("dedupe_only", model)
    linker = _linker(db.register(_features(records, settings, len(records))), settings)
    return _pairs(linker.inference.predict(threshold_match_probability=threshold))


def link(a: list[dict], b: list[dict], threshold: float = M.REVIEW, model: dict | None = None) -> list[Pair]:
    """Pairs with left_id from `a` and right_id from `b`."""
    db = _db()
    settings = _model("link_only", model)
    ta = db.register(_features(a, settings, len(a) + len(b)), dataset_display_name="a")
    tb = db.register(_features(b, settings, len(a) + len(b)), dataset_display_name="b")
    linker = _linker([ta, tb], settings)
    df = linker.inference.predict(threshold_match_probability=threshold)
    rel = df.as_duckdbpyrelation().select(
        "source_dataset_l, unique_id_l, unique_id_r, match_probability, match_weight").fetchall()
    out = []
    for src_l, idl, idr, p, w in rel:
        if src_l == "a":
            out.append(Pair(str(idl), str(idr), float(p), float(w)))
        else:
            out.append(Pair(str(idr), str(idl), float(p), float(w)))
    return out


class _UnionFind:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class AddResult:
    assigned: dict[str, str] = field(default_factory=dict)  # record_id -> person id
    new_persons: int = 0
    review: list[Pair] = field(default_factory=list)  # uncertain pairs (new record, existing or new record)


class PersonIndex:
    """Records with stable person ids, kept in DuckDB. Person ids are never reused or renumbered."""

    def __init__(self, model: dict | None = None, accept: float = M.ACCEPT, review: float = M.REVIEW):
        self.model = _model("dedupe_only", model)
        self.accept, self.review = accept, review
        self.db = _db()
        self.con = self.db.duckdb_con
        self.next_person = 1
        self.person_of: dict[str, str] = {}
        self._loaded = False

    def _new_person(self) -> str:
        pid = f"P{self.next_person:08d}"
        self.next_person += 1
        return pid

    def _store(self, table) -> None:
        self.con.register("_incoming", table)
        if not self._loaded:
            self.con.execute("CREATE TABLE known AS SELECT * FROM _incoming")
            self._loaded = True
        else:
            self.con.execute("INSERT INTO known SELECT * FROM _incoming")
        self.con.unregister("_incoming")

    def _refresh_tf(self, linker) -> None:
        self.con.execute("CREATE OR REPLACE TABLE tf_name_s AS SELECT name_s, count(*)::DOUBLE / "
                         "(SELECT count(*) FROM known WHERE name_s IS NOT NULL) AS tf_name_s "
                         "FROM known WHERE name_s IS NOT NULL GROUP BY name_s")
        linker.table_management.register_term_frequency_lookup(self.db.register("tf_name_s"), "name_s")

    def build(self, records: list[dict], existing: dict[str, str] | None = None) -> dict[str, str]:
        """First load: deduplicate and give each cluster a person id (or keep the ids in `existing`)."""
        table = feature_table(records)
        self._store(table)
        linker = _linker(self.db.register("known"), self.model)
        uf = _UnionFind()
        for rid in table.column("unique_id").to_pylist():
            uf.find(rid)
        if existing:
            self.person_of.update(existing)
            nums = [int(p[1:]) for p in existing.values() if p[1:].isdigit()]
            self.next_person = max(nums, default=0) + 1
        else:
            for p in _pairs(linker.inference.predict(threshold_match_probability=self.accept)):
                uf.union(p.left_id, p.right_id)
            roots: dict[str, str] = {}
            for rid in table.column("unique_id").to_pylist():
                root = uf.find(rid)
                if root not in roots:
                    roots[root] = self._new_person()
                self.person_of[rid] = roots[root]
        return dict(self.person_of)

    def add(self, records: list[dict]) -> AddResult:
        """A new load: link to known persons and within itself; the known records are not relinked."""
        res = AddResult()
        new = feature_table(records)
        new_ids = new.column("unique_id").to_pylist()
        linker = _linker(self.db.register("known"), self.model)
        self._refresh_tf(linker)
        sdf_new = self.db.register(new)
        between = _pairs(linker.inference.predict_between(
            sdf_new, self.db.register("known"), threshold_match_probability=self.review, warning_mode="never"))
        within = _pairs(linker.inference.predict_within(
            sdf_new, threshold_match_probability=self.review, warning_mode="never"))
        new_set = set(new_ids)
        best: dict[str, Pair] = {}
        for p in between:
            nid, kid = (p.left_id, p.right_id) if p.left_id in new_set else (p.right_id, p.left_id)
            if p.probability >= self.accept:
                if nid not in best or p.probability > best[nid].probability:
                    best[nid] = Pair(nid, kid, p.probability, p.weight)
            else:
                res.review.append(Pair(nid, kid, p.probability, p.weight))
        uf = _UnionFind()
        for rid in new_ids:
            uf.find(rid)
        for p in within:
            if p.probability >= self.accept:
                uf.union(p.left_id, p.right_id)
            else:
                res.review.append(p)
        # a cluster of new records takes the person of its best link to a known record
        cluster_person: dict[str, tuple[float, str]] = {}
        for nid, p in best.items():
            root = uf.find(nid)
            pid = self.person_of[p.right_id]
            if root not in cluster_person or p.probability > cluster_person[root][0]:
                cluster_person[root] = (p.probability, pid)
        for rid in new_ids:
            root = uf.find(rid)
            if root not in cluster_person:
                cluster_person[root] = (0.0, self._new_person())
                res.new_persons += 1
            res.assigned[rid] = cluster_person[root][1]
        self.person_of.update(res.assigned)
        self._store(new)
        return res
