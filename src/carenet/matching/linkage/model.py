"""The splink model: Chinese-aware comparisons, blocking rules and training. Pure Python, no Django.

The comparisons work on the columns derived in normalize.py. Each level is SQL that DuckDB (and Spark)
run; the levels go from the strongest agreement to none, and splink learns how much each level says
(m and u probabilities, shown as match weights). Read the trained weights with `explain_model()`.
"""
from __future__ import annotations

import json
from pathlib import Path

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

MODEL_PATH = Path(__file__).with_name("model.json")

# Thresholds on the match probability, chosen on the tuning population (synth.TUNE_SEED), never on the
# evaluation set. A pair at or above ACCEPT is the same person without review; between REVIEW and ACCEPT
# it goes to the review queue; below REVIEW it is treated as two people. The CLI writes every pair >= 0.5.
ACCEPT = 0.95
REVIEW = 0.5


# Household members share an address and often a phone; twins share a birth date and all but one digit
# of the ID number. Those agreements are evidence of one person only when the names are compatible, so
# the comparisons below treat them as "no information" when the names clearly differ.
# (Jaro-Winkler on pinyin is too loose for two- and three-syllable names: chen xue ~ zeng xue.)
NAMES_COMPATIBLE = "(name_fz_l IS NULL OR name_fz_r IS NULL OR name_fz_l = name_fz_r)"


def _id_comparison():
    return cl.CustomComparison(
        output_column_name="id_number",
        comparison_description="ID number (18 digits; 15-digit numbers converted)",
        comparison_levels=[
            cll.CustomLevel("id17_l IS NULL OR id17_r IS NULL", "no ID number").configure(is_null_level=True),
            cll.CustomLevel("id18_l = id18_r AND id_ok_l AND id_ok_r", "same ID number"),
            cll.CustomLevel("id17_l = id17_r", "same ID number except a wrong check character"),
            cll.CustomLevel(f"damerau_levenshtein(id17_l, id17_r) <= 1 AND {NAMES_COMPATIBLE}",
                            "one digit mistyped or two swapped (names compatible)"),
            cll.ElseLevel(),
        ],
    )


def _name_comparison():
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="name (simplified characters, pinyin, fuzzy pinyin)",
        comparison_levels=[
            cll.CustomLevel("name_s_l IS NULL OR name_s_r IS NULL", "no name").configure(is_null_level=True),
            cll.CustomLevel("name_s_l = name_s_r", "same characters (after traditional -> simplified)")
            .configure(tf_adjustment_column="name_s"),
            cll.CustomLevel("name_py_l = name_py_r", "same pinyin (homophone)"),
            cll.CustomLevel("name_fz_l = name_fz_r", "same fuzzy pinyin (near-homophone: zh/z, n/l, -ng/-n)"),
            cll.ElseLevel(),
        ],
    )


def _dob_comparison():
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="date of birth, stated or from the ID number",
        comparison_levels=[
            cll.CustomLevel("dob_l IS NULL OR dob_r IS NULL", "no birth date").configure(is_null_level=True),
            cll.CustomLevel("dob_l = dob_r OR dob_l = dob_id_r OR dob_id_l = dob_r", "same date (stated or in the ID)"),
            cll.CustomLevel(
                "levenshtein(dob_l, dob_r) <= 1 OR (substr(dob_l, 1, 4) = substr(dob_r, 1, 4) "
                "AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2))",
                "one digit different, or day and month swapped"),
            cll.CustomLevel("substr(dob_l, 1, 4) = substr(dob_r, 1, 4)", "same year"),
            cll.ElseLevel(),
        ],
    )


def _sex_comparison():
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            cll.CustomLevel("sex_l IS NULL OR sex_r IS NULL", "no sex").configure(is_null_level=True),
            cll.CustomLevel("sex_l = sex_r", "same sex"),
            cll.ElseLevel(),
        ],
    )


def _place_comparison():
    return cl.CustomComparison(
        output_column_name="place",
        comparison_description="address and division",
        comparison_levels=[
            cll.CustomLevel(f"((addr_l IS NULL OR addr_r IS NULL) AND (div9_l IS NULL OR div9_r IS NULL)) "
                            f"OR NOT {NAMES_COMPATIBLE}",
                            "no address, or names differ (household members)").configure(is_null_level=True),
            cll.CustomLevel("addr_l = addr_r", "same address"),
            cll.CustomLevel("div12_l = div12_r", "same community or village"),
            cll.CustomLevel("div9_l = div9_r", "same street or township"),
            cll.ElseLevel(),
        ],
    )


def _phone_comparison():
    return cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.CustomLevel(f"phone_l IS NULL OR phone_r IS NULL OR NOT {NAMES_COMPATIBLE}",
                            "no phone, or names differ (household phone)").configure(is_null_level=True),
            cll.CustomLevel("phone_l = phone_r", "same phone"),
            cll.ElseLevel(),
        ],
    )


BLOCKING = [
    block_on("id17"),
    block_on("name_fz", "substr(dob, 1, 4)"),  # same sound, same year of birth: day and month typos
    # Tightened for 1,000,000 records (on the tuning population: the same true pairs proposed by the first,
    # 20 fewer of 11,073 by the second, a fifth fewer candidate pairs, far fewer at scale where a township holds
    # many people of a common name or a birth date).
    block_on("dob", "div9", "surname_fz"),
    block_on("phone", "surname_fz"),
    block_on("name_fz", "div12"),
    block_on("name_fz", "id_tail"),
]


def blocking_rules(dialect: str = "duckdb") -> list[dict]:
    return [b.get_blocking_rule(dialect).as_dict() for b in BLOCKING]


def settings(link_type: str = "dedupe_only") -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[_id_comparison(), _name_comparison(), _dob_comparison(), _sex_comparison(),
                     _place_comparison(), _phone_comparison()],
        blocking_rules_to_generate_predictions=BLOCKING,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _unconditional_u(con, table: str) -> dict[str, list[float]]:
    """u for the place and phone levels over random pairs, ignoring the name gate.

    Conditioning on compatible names would make random pairs mostly true matches, so the usual random
    sampling would badly overestimate u for the gated comparisons. Outside the gate the level carries no
    information, so the unconditional share of random pairs is the right u inside it.
    """
    row = con.execute(f"""
        WITH s AS (SELECT * FROM {table} USING SAMPLE 2500 ROWS (reservoir, 1)),
        p AS (SELECT l.addr AS al, r.addr AS ar, l.div12 AS cl, r.div12 AS cr, l.div9 AS tl, r.div9 AS tr,
                     l.phone AS pl, r.phone AS pr FROM s l JOIN s r ON l.unique_id < r.unique_id),
        g AS (SELECT CASE WHEN (al IS NULL OR ar IS NULL) AND (tl IS NULL OR tr IS NULL) THEN -1
                          WHEN al = ar THEN 3 WHEN cl = cr THEN 2 WHEN tl = tr THEN 1 ELSE 0 END AS place,
                     CASE WHEN pl IS NULL OR pr IS NULL THEN -1 WHEN pl = pr THEN 1 ELSE 0 END AS phone FROM p)
        SELECT count(*) FILTER (place = 3), count(*) FILTER (place = 2), count(*) FILTER (place = 1),
               count(*) FILTER (place = 0), count(*) FILTER (phone = 1), count(*) FILTER (phone = 0) FROM g
    """).fetchone()
    place = [max(x, 1) / max(sum(row[:4]), 1) for x in row[:4]]
    phone = [max(x, 1) / max(sum(row[4:]), 1) for x in row[4:]]
    return {"place": place, "phone": phone}


def train(linker, table_name: str):
    """Unsupervised training (no labels): u from random pairs, m by expectation-maximisation.

    Returns a new linker carrying the trained model.
    """
    from splink import Linker

    linker.training.estimate_probability_two_random_records_match(
        ["l.id18 = r.id18 AND l.id_ok AND r.id_ok"], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=3e6, seed=1)
    model = linker.misc.save_model_to_json()
    u = _unconditional_u(linker._db_api.duckdb_con.cursor(), table_name)
    for comp in model["comparisons"]:
        if comp["output_column_name"] in u:
            levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
            for lv, value in zip(levels, u[comp["output_column_name"]]):
                lv["u_probability"] = value
                lv["fix_u_probability"] = True
    model["linker_uid"] = None
    linker = Linker(list(linker._input_tables_dict.values()), model, log_level=None)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id17"))
    # comparisons that read the blocking columns are not trained in a session, hence two sessions
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob", "div9"))
    return linker


def load_model() -> dict:
    return json.loads(MODEL_PATH.read_text(encoding="utf-8"))


def explain_model(model: dict | None = None) -> list[dict]:
    """Every comparison level with its match weight (log2 of m/u): what each kind of agreement is worth."""
    import math

    model = model or load_model()
    out = []
    for comp in model["comparisons"]:
        for lvl in comp["comparison_levels"]:
            if lvl.get("is_null_level"):
                continue
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            out.append({"comparison": comp["output_column_name"], "level": lvl.get("label_for_charts", ""),
                        "m": m, "u": u, "weight": weight, "tf": bool(lvl.get("tf_adjustment_column"))})
    return out


# -- plain splink, for comparison in bench/linkage.py -------------------------------------------------
def plain_settings() -> SettingsCreator:
    """Generic settings a first splink user would write: exact ID, Jaro-Winkler on the name, birth date."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.ExactMatch("id_number"),
            cl.JaroWinklerAtThresholds("name", [0.9, 0.7]),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
        ],
        blocking_rules_to_generate_predictions=[block_on("id_number"), block_on("name"), block_on("birth_date")],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def plain_train(linker) -> None:
    linker.training.estimate_probability_two_random_records_match(["l.id_number = r.id_number"], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=3e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
