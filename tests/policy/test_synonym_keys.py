"""The query-expansion maps have no duplicate keys (a dict literal silently keeps only the last one)."""
import ast
from pathlib import Path

import carenet.policy.engine.synonyms as synonyms_module

SOURCE = Path(synonyms_module.__file__)


def duplicate_keys(source: str) -> list[tuple[str, object]]:
    """(map name, key) for every key a module-level dict literal defines more than once."""
    out = []
    for node in ast.parse(source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0] if isinstance(node, ast.Assign) \
            else None
        value = getattr(node, "value", None)
        if not isinstance(target, ast.Name) or not isinstance(value, ast.Dict):
            continue
        seen = set()
        for key in value.keys:
            if isinstance(key, ast.Constant):
                if key.value in seen:
                    out.append((target.id, key.value))
                seen.add(key.value)
    return out


def test_the_synonym_maps_have_no_duplicate_keys():
    assert duplicate_keys(SOURCE.read_text(encoding="utf-8")) == []


def test_a_duplicate_key_is_found():
    assert duplicate_keys('M: dict = {"赶出": ("遗弃",), "看望": (), "赶出": ("住房",)}\n') == [("M", "赶出")]


def test_driven_out_expands_to_abandonment_and_housing():
    assert {"遗弃", "住房"} <= set(synonyms_module.SYNONYMS["赶出"])
