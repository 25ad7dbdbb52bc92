"""Issue 10 moves owned by the ingest work: the registry (`devices`) never imports `monitoring`; the engine-state
helpers live in monitoring/state.py, which services and timers use without importing the ingest path."""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "carenet"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_devices_never_imports_monitoring():
    offenders = {str(p.relative_to(SRC)): sorted(m for m in _imports(p) if m.startswith("carenet.monitoring"))
                 for p in (SRC / "devices").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_engine_state_helpers_are_not_imported_from_the_ingest_path():
    for name in ("services.py", "timers.py", "views.py"):
        assert "carenet.monitoring.ingest" not in _imports(SRC / "monitoring" / name), name
        assert "carenet.monitoring.state" in _imports(SRC / "monitoring" / name), name


def test_the_device_http_endpoint_lives_beside_the_worker():
    from carenet.api import api

    views = {op.view_func.__module__ for _, router in api._routers
             for view in router.path_operations.values() for op in view.operations}
    assert "carenet.monitoring.api" in views
    assert not (SRC / "devices" / "api.py").exists()
