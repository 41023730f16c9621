"""The project's own conventions, tested: core never imports streamlit, pages stay thin, no print in core."""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parent.parent


def test_core_never_imports_streamlit():
    modules = [m.name for m in pkgutil.walk_packages(core.__path__, "core.") if not m.name.endswith("__main__")]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"some core module pulls in streamlit ({len(modules)} modules imported)"


def test_core_logs_instead_of_printing():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_page_is_registered_in_the_router():
    router = (ROOT / "streamlit_app.py").read_text()
    pages = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
    assert [p for p in pages if f"pages/{p}" not in router] == []
