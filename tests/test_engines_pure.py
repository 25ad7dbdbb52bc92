"""The pure engines (alarm rules, eligibility and payroll, regulation search) never import Django."""
import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "carenet"
ENGINES = ["core/engine", "monitoring/engine", "assistance/engine", "policy/engine", "civic/engine", "homecare/engine", "facilities/engine",
           "core/tabular", "matching/engine", "matching/linkage"]
SHARED = "carenet.core.engine"  # pure helpers every engine may use (the working-day calendar)
# Single pure modules an engine may import (themselves free of Django).
PURE_MODULES = ["carenet.core.idcard", "carenet.core.exports"]


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_has_no_django_imports(engine):
    files = sorted((SRC / engine).rglob("*.py"))
    assert files, f"no sources under {engine}"
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module or ''}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(SRC)}: {n}" for n in names if n.split(".")[0] in ("django", "carenet")
                          and not n.startswith(f"carenet.{engine.replace('/', '.')}")
                          and not n.startswith(SHARED) and n not in PURE_MODULES]
    assert offenders == []


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_have_no_django_or_project_imports(module):
    path = SRC.parent / (module.replace(".", "/") + ".py")
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
    assert [n for n in names if n.split(".")[0] in ("django", "carenet")] == []
