"""The project's own conventions, tested: the house rules of DESIGN.md and STYLE.md that a machine can check.

- core never imports streamlit and logs instead of printing;
- every page is registered in the router, stays thin (PAGE_MAX_LINES) and shows errors only through
  components.app (`shows_errors`, behind `run_page` too);
- pages and components never import a store (core.stores): they reach data through the service;
- HTML reaches the browser only through builders named `*_html` in components/, each fed `<script>` by
  tests/components/test_html_builders.py;
- tests/ mirrors the source tree (see test_tests_mirror_the_source_tree), and every test under tests/browser/ is
  marked browser.
"""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import core
from tests.components.test_html_builders import HTML_BUILDERS

ROOT = Path(__file__).resolve().parent.parent
PAGE_MAX_LINES = 100
# Test folders: one per source folder they test, plus two that cut across it.
CROSS_CUTTING = {"browser": "the app under `streamlit run`, driven by chromium",
                 "contract": "one store contract suite run against every record and blob store"}


def _modules(folder: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / folder).rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _imported(tree: ast.Module) -> set[str]:
    """Every module a file imports, at any depth (`from core import stores` counts as core.stores)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _source_folders() -> set[str]:
    return {d.name for d in ROOT.iterdir()
            if d.is_dir() and not d.name.startswith(".") and d.name != "tests" and any(d.glob("*.py"))}


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


def test_pages_stay_thin():
    lines = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "pages").glob("*.py")}
    assert {name: n for name, n in lines.items() if n > PAGE_MAX_LINES} == {}, (
        f"a page over {PAGE_MAX_LINES} lines holds logic that belongs in components/ or core/")


def test_pages_show_errors_only_through_components_app():
    """A page never catches errors itself: `run_page` shows a LoupeError in words, and a page that must go on
    after a failed action wraps it in `with shows_errors():`."""
    offenders = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, tree in _modules("pages")
                 for node in ast.walk(tree) if isinstance(node, ast.Try) and node.handlers]
    assert offenders == []


def test_pages_and_components_never_import_a_store():
    offenders = [f"{path.relative_to(ROOT)} imports {name}" for folder in ("pages", "components")
                 for path, tree in _modules(folder) for name in sorted(_imported(tree))
                 if _is_under(name, "core.stores")]
    assert offenders == []


def _st_uses(folder: str, names: set[str]) -> Iterator[tuple[str, ast.Attribute, ast.AST | None]]:
    """Each `st.<name>` under `folder` (called, decorating or subscripted), with the node it sits in."""
    for path, tree in _modules(folder):
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in names and isinstance(node.value, ast.Name)
                    and node.value.id == "st"):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node, parents.get(node)


def _reads(parent: ast.AST | None) -> bool:
    """`st.query_params.get(...)` or `st.query_params[...]` read: reading never drops a parameter."""
    return (isinstance(parent, ast.Attribute) and parent.attr == "get") or (
        isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Load))


def test_links_page_switches_and_query_writes_keep_the_typed_name_through_components_auth():
    """The URL carries the typed name (`?reviewer=`, LOUPE_AUTH=none): only components/auth.py links, switches
    pages or writes the query (`page_link`, `set_query_param`), so none of them can drop it."""
    offenders = [where for folder in ("pages", "components")
                 for where, node, parent in _st_uses(folder, {"page_link", "switch_page", "query_params"})
                 if not where.startswith("components/auth.py") and not _reads(parent)]
    assert offenders == []


def test_every_fragment_acts_as_the_signed_in_member():
    """A fragment's own rerun runs outside the router's `acting` block: only components/app.py makes fragments
    (`member_fragment`), which act as the signed-in member and show errors in words."""
    offenders = [where for folder in ("pages", "components") for where, _, _ in _st_uses(folder, {"fragment"})
                 if not where.startswith("components/app.py")]
    assert offenders == []


def test_every_html_builder_is_registered_for_the_script_test():
    builders = {f"components.{path.stem}.{node.name}" for path, tree in _modules("components")
                for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.endswith("_html")}
    assert builders == set(HTML_BUILDERS)


def test_html_reaches_the_browser_only_through_the_builders():
    """`unsafe_allow_html` only in components/ and only on what a `*_html` builder returned; no st.html; a custom
    component's markup is a module constant (user data goes in its `data`, which the browser reads as text)."""
    offenders = []
    for folder in ("pages", "components"):
        for path, tree in _modules(folder):
            where = f"{path.relative_to(ROOT)}"
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                unsafe = keywords.get("unsafe_allow_html")
                if unsafe is not None and not (isinstance(unsafe, ast.Constant) and unsafe.value is False):
                    first = node.args[0] if node.args else None
                    builder = first.func if isinstance(first, ast.Call) else None
                    name = getattr(builder, "id", None) or getattr(builder, "attr", "")
                    if folder == "pages" or not name.endswith("_html"):
                        offenders.append(f"{where}:{node.lineno} unsafe_allow_html on {ast.unparse(first or node)}")
                if isinstance(node.func, ast.Attribute) and node.func.attr == "html":
                    offenders.append(f"{where}:{node.lineno} {ast.unparse(node.func)}")
                if "html" in keywords and not isinstance(keywords["html"], ast.Name):
                    offenders.append(f"{where}:{node.lineno} component markup built at run time")
    assert offenders == []


def test_tests_mirror_the_source_tree():
    """A test module lives in tests/<folder>/, where <folder> is the source folder it tests (core, components,
    pages, ...) or a cross-cutting suite (CROSS_CUTTING). At the top of tests/ sit only this file and the tests of
    a root module, named after it (test_server_exposure.py tests server.py). A core or contract test never imports
    components or pages (nor streamlit), and a components test never imports a page."""
    allowed = _source_folders() | set(CROSS_CUTTING)
    root_modules = {p.stem for p in ROOT.glob("*.py")}

    def is_placed(path: Path) -> bool:
        parts = path.relative_to(ROOT / "tests").parts
        if len(parts) == 1:
            return path.name == Path(__file__).name or any(
                path.stem == f"test_{m}" or path.stem.startswith(f"test_{m}_") for m in root_modules)
        return len(parts) == 2 and parts[0] in allowed

    assert [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py") if not is_placed(p)] == []
    assert [d.name for d in (ROOT / "tests").iterdir() if d.is_dir() and any(d.glob("test_*.py"))
            and not (d / "__init__.py").exists()] == []
    forbidden = {"core": ("components", "pages", "streamlit"), "contract": ("components", "pages", "streamlit"),
                 "components": ("pages",)}
    crossing = [f"tests/{folder}/{path.name} imports {name}" for folder, packages in forbidden.items()
                for path, tree in _modules(f"tests/{folder}") for name in sorted(_imported(tree))
                if any(_is_under(name, package) for package in packages)]
    assert crossing == []


def test_every_browser_test_module_is_marked_browser():
    """tests/conftest.py refuses an unmarked test there at collection; this names the module that lacks it."""
    unmarked = []
    for path, tree in _modules("tests/browser"):
        if not path.name.startswith("test_"):
            continue
        marks = [ast.unparse(node.value) for node in tree.body if isinstance(node, ast.Assign)
                 and any(getattr(t, "id", None) == "pytestmark" for t in node.targets)]
        if not any("pytest.mark.browser" in m for m in marks):
            unmarked.append(path.name)
    assert unmarked == []


MARKDOWN_WIDGETS = {"markdown", "caption", "success", "info", "warning", "error", "subheader", "header", "title",
                    "toast", "write"}


def _is_escaped(node: ast.expr) -> bool:
    """A value that is safe to show as Markdown: passed through plain(), a number (a format spec such as {n:,} or
    {n:d} says so), a literal, len(), core.words.counted() (a number and a literal noun), or a `*_html` builder's
    output (escaped HTML, for unsafe_allow_html)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.IfExp):  # one safe value or another: a verb's ending after counted()
        return _is_escaped(node.body) and _is_escaped(node.orelse)
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
        return name in ("plain", "len", "counted") or name.endswith("_html")
    return False


def _unescaped(arg: ast.expr) -> list[ast.expr]:
    if isinstance(arg, ast.JoinedStr):
        return [v.value for v in arg.values
                if isinstance(v, ast.FormattedValue) and v.format_spec is None and not _is_escaped(v.value)]
    if isinstance(arg, ast.BinOp):
        return _unescaped(arg.left) + _unescaped(arg.right)
    if isinstance(arg, ast.Call) and getattr(arg.func, "attr", "") == "join" and arg.args:
        joined = arg.args[0]  # " · ".join(f"..." for ...): check the pieces
        return _unescaped(joined.elt) if isinstance(joined, (ast.GeneratorExp, ast.ListComp)) else []
    if isinstance(arg, (ast.Attribute, ast.Subscript, ast.Call)) and not _is_escaped(arg):
        return [arg]  # a field or a call result shown as it is (a local variable is the caller's to build right)
    return []


def test_markdown_widgets_never_show_unescaped_text():
    """Streamlit renders these widgets' text as Markdown, so a file or reviewer name like `[Re-login](https://…)`
    would become a live link: every value they show goes through components.markup.plain(), or is a number."""
    offenders = []
    for folder in ("pages", "components"):
        for path, tree in _modules(folder):
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                shown = []
                if node.func.attr in MARKDOWN_WIDGETS and node.args:
                    shown.append(node.args[0])
                shown += [k.value for k in node.keywords if k.arg in ("text", "label", "body")]
                offenders += [f"{path.relative_to(ROOT)}:{value.lineno}: {ast.unparse(value)}"
                              for arg in shown for value in _unescaped(arg)]
    assert offenders == [], "pass these through plain() (or give a number a format spec):\n" + "\n".join(offenders)
