"""`carenet link` on small files: dedup one file, link two, clear errors."""
import csv

import pytest
from django.core.management import CommandError, call_command

HEAD = "record_id,name,id_number,birth_date,sex,division_code,address,phone\n"


def write(path, rows):
    path.write_text(HEAD + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def read_pairs(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_two_files_link_a_to_b(tmp_path):
    a = write(tmp_path / "a.csv", [["a1", "张丽华", "340899194403061695", "1944-03-06", "女", "340899001006", "", ""],
                                   ["a2", "赵敏", "340899197002020047", "", "", "", "", ""]])
    b = write(tmp_path / "b.csv", [["b1", "張利華", "340899440306169", "", "", "", "", ""],
                                   ["b2", "钱多", "340899198808080018", "", "", "", "", ""]])
    out = tmp_path / "pairs.csv"
    call_command("link", a, b, "--out", str(out))
    rows = read_pairs(out)
    assert [(r["left_id"], r["right_id"]) for r in rows] == [("a1", "b1")]
    assert float(rows[0]["probability"]) >= 0.5


def test_one_file_deduplicates(tmp_path):
    a = write(tmp_path / "a.csv", [["1", "陈建忠", "34089919500102123X", "", "", "", "", ""],
                                   ["2", "陈建中", "340899195001021230", "", "", "", "", ""],
                                   ["3", "赵敏", "340899197002020047", "", "", "", "", ""]])
    out = tmp_path / "p.csv"
    call_command("link", a, "--out", str(out))
    assert [(r["left_id"], r["right_id"]) for r in read_pairs(out)] == [("1", "2")]


def test_bad_header_is_a_clear_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id,name\n1,张三\n", encoding="utf-8")
    with pytest.raises(CommandError, match="record_id"):
        call_command("link", str(p), "--out", str(tmp_path / "o.csv"))
