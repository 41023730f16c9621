"""MkDocs hooks: the reference parts of the docs, generated from the code at build time so they cannot go stale.

- `index.md` is README.md, with its `docs/...` links pointed at the pages beside it (one entry page, one source).
- A page that holds `<!-- generated: NAME -->` gets that part put in its place:
  `cli` (every `python -m core` command, from core/cli's argparse parser), `configuration` (every `LOUPE_*`
  key, from core/config.py's `Config` fields and their comments), `settings` (what the Settings page saves, from
  core/project_settings.py) and `modules` (every module with the first sentence of its docstring).
- Every page is checked: a `python -m core COMMAND` the parser lacks, or a `LOUPE_*` name that no code reads, is
  a warning, which `mkdocs build --strict` (`make docs`, `make test`) turns into a failure.
"""
from __future__ import annotations

import argparse
import ast
import io
import logging
import os
import re
import sys
import tokenize
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, get_args

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger("mkdocs.hooks.loupe")

MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")
MODULE_FOLDERS = [".", "core", "core/cli", "core/stores", "core/formats", "core/labelers", "core/transcribers",
                  "core/task_types", "components", "pages", "api", "scripts", "bench", "demo"]
# Words for the Config fields whose declaration carries no comment; a field with a comment uses that instead.
NOTES = {
    "data_dir": "where the local store keeps records (SQLite) and media (by sha256), and models are built into",
    "store": "`local` (SQLite and a folder) or `dynamodb` (DynamoDB and S3: [Team backend](team-backend.md))",
    "max_image_pixels": "images with more pixels are refused as possible decompression bombs",
    "job_workers": "background job threads of each app process",
    "dynamodb_table": "the DynamoDB table, one per project (`LOUPE_STORE=dynamodb`)",
    "s3_bucket": "the media bucket of the team backend; objects go under `media/<sha256>`. Unset: media stay in "
                 "`LOUPE_DATA_DIR/media`",
    "labeler": "`local` (bundled, offline) or `rekognition` ([Image labeling](labeling.md))",
    "transcriber_beam_size": "Whisper's beam size, 1 to 10",
    "transcriber_vad": "skip silence with Silero VAD before transcribing",
    "caption_line_chars": "characters per caption line (SRT, WebVTT)",
    "caption_lines": "lines per caption",
    "auth": "`none` (a typed name, everyone is admin: one person on loopback) or `oidc` (sign-in through "
            "`st.login`: [Run it for a team](team.md))",
    "dask_scheduler": "`tcp://host:8786`: send model work to that Dask cluster, whatever `LOUPE_DASK` says",
}
# Where the docs tell each page's story; a page that is not here is a warning, so a new page gets its place.
PAGE_DOCS = {
    "pages/home.py": "[the tour](index.md#a-five-minute-tour)",
    "pages/upload.py": "[Media in and files out](formats.md)",
    "pages/images.py": "[Image labeling](labeling.md)",
    "pages/transcript.py": "[Transcription](transcription.md#the-transcripts-page)",
    "pages/thresholds.py": "[Thresholds and routing](routing.md), [Learning from people](learning.md)",
    "pages/moderation_task.py": "[Human review](review.md)",
    "pages/label_review.py": "[Human review](review.md)",
    "pages/results.py": "[Human review](review.md)",
    "pages/settings.py": "[Configuration](configuration.md#the-settings-page)",
    "pages/members.py": "[Run it for a team](team.md)",
}
# LOUPE_* names that only the docs' readers set (read by their own code, not by Loupe's).
DOC_ONLY_NAMES = {"LOUPE_API_URL"}


# ---- hooks -------------------------------------------------------------------------------------------------------

def on_config(config):
    if str(ROOT) not in sys.path:  # MkDocs puts back sys.path after loading this file: core is imported later
        sys.path.insert(0, str(ROOT))
    return config


def on_files(files, config):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "index.md", content=readme.replace("](docs/", "](")))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    where = page.file.src_uri
    _check_commands(markdown, where)
    _check_keys(markdown, where)
    return MARKER.sub(lambda m: _generate(m.group(1), where), markdown)


def on_serve(server, config, builder):
    for path in ("README.md", "core/cli", "core/config.py", "core/project_settings.py"):
        server.watch(str(ROOT / path))
    return server


def _generate(name: str, where: str) -> str:
    makers = {"cli": cli_reference, "configuration": configuration_reference, "settings": settings_reference,
              "modules": module_reference, "pages": pages_reference}
    if name not in makers:
        log.warning("%s: no generator for <!-- generated: %s --> (known: %s)", where, name, ", ".join(makers))
        return ""
    return makers[name]()


# ---- the command line --------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    from core.cli import build_parser

    os.environ["COLUMNS"] = "110"  # argparse wraps usage lines to the terminal; the docs have one width
    return build_parser()


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            out += [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return out


def _cell(text: Any) -> str:
    """Text for a table cell: Markdown's special characters escaped outside code spans, which stay as written."""
    parts = str(text).replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"([\\|*_\[\]])", r"\\\1", parts[i]).replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                name += " " + formatter._format_args(action, formatter._get_default_metavar_for_optional(action))
        else:
            name = formatter._format_args(action, formatter._get_default_metavar_for_positional(action))
        meaning = formatter._expand_help(action) if action.help else ""
        if action.choices and not isinstance(action.choices, dict):
            meaning += (" " if meaning else "") + "one of " + ", ".join(f"`{c}`" for c in action.choices)
        if action.required and action.option_strings:
            meaning = "required. " + meaning if meaning else "required"
        default = action.default
        shown = ("" if default in (None, False, argparse.SUPPRESS) or (action.nargs == 0 and default is not True)
                 else "(empty)" if default == "" else f"`{default}`")
        rows.append(f"| `{name}` | {_cell(meaning)} | {shown} |")
    if not rows:
        return []
    return ["| argument | meaning | default |", "| --- | --- | --- |", *rows, ""]


def _command(name: str, help_text: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    out = ["#" * depth + f" {name}", ""]
    if help_text:
        out += [help_text[0].upper() + help_text[1:] + ("" if help_text.endswith(".") else "."), ""]
    if parser.description and parser.description != help_text:
        out += [parser.description, ""]
    out += ["```text", parser.format_usage().strip().removeprefix("usage: "), "```", ""]
    out += _arguments(parser)
    for sub_name, sub_help, sub in _subcommands(parser):
        out += _command(f"{name} {sub_name}", sub_help, sub, depth + 1)
    if parser.epilog:
        out += [parser.epilog, ""]
    return out


def cli_reference() -> str:
    parser = _parser()
    commands = _subcommands(parser)
    out = ["Every command, as `python -m core --help` and `python -m core COMMAND --help` say it. Options that "
           "come before the command:", "", *_arguments(parser),
           "| command | what it does |", "| --- | --- |"]
    out += [f"| [`{name}`](#{_slug(name)}) | {_cell(help_text)} |" for name, help_text, _ in commands]
    out.append("")
    for name, help_text, sub in commands:
        out += _command(name, help_text, sub, 2)
    return "\n".join(out)


def _slug(heading: str) -> str:
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", heading).strip().lower())


def _check_commands(markdown: str, where: str) -> None:
    known = {name for name, _, _ in _subcommands(_cached_parser())}
    for name in sorted(set(re.findall(r"python -m core ([a-z][a-z0-9-]*)", markdown)) - known):
        log.warning("%s: `python -m core %s` is not a command (python -m core --help lists them)", where, name)


_PARSER: list[argparse.ArgumentParser] = []


def _cached_parser() -> argparse.ArgumentParser:
    if not _PARSER:
        _PARSER.append(_parser())
    return _PARSER[0]


# ---- configuration and settings ----------------------------------------------------------------------------------

def _config_declarations() -> dict[str, dict[str, str]]:
    """Each `Config` field's annotation, default and comment (the lines just above it, and the one after it)."""
    path = ROOT / "core" / "config.py"
    source = path.read_text(encoding="utf-8")
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            code_lines.add(tok.start[0])
    klass = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Config")
    out = {}
    for node in klass.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above, line = [], node.lineno - 1
        while line in comments and line not in code_lines:
            above.insert(0, comments[line])
            line -= 1
        after = comments.get(node.end_lineno or node.lineno, "")
        out[node.target.id] = {"annotation": ast.unparse(node.annotation),
                               "default": ast.unparse(node.value) if node.value else "",
                               "comment": " ".join(above + ([after] if after else []))}
    return out


def _kind(annotation: str) -> str:
    from core import config as module

    if annotation in ("bool",):
        return "true or false"
    if annotation == "str":
        return "text"
    if annotation == "Folder":
        return "folder"
    if annotation == "Count":
        return "whole number, at least 1"
    floor = re.fullmatch(r"Annotated\[int, Field\(ge=(\d+)\)\]", annotation)
    if floor:
        return f"whole number, at least {floor.group(1)}"
    choices = get_args(getattr(module, annotation, None))
    if choices:
        return "one of " + ", ".join(f"`{c}`" for c in choices)
    log.warning("core/config.py: the docs do not know how to name the type %r (docs/hooks.py, _kind)", annotation)
    return annotation


def _default(value: Any, source: str) -> str:
    from core.config import APP_ROOT

    if isinstance(value, Path):
        if value == Path():
            return "(unset)"
        return f"`{value.relative_to(APP_ROOT)}/` beside the app" if value.is_relative_to(APP_ROOT) else f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int):
        plain = f"{value:,}"
        return f"{plain} (`{source}`)" if source.replace("_", "") != str(value) else plain
    if value == "":
        return "(empty)"
    return f"`{value}`"


def configuration_reference() -> str:
    from core.config import PREFIX, Config
    from core.project_settings import SETTING_NAMES, TITLES

    declared = _config_declarations()
    for name in sorted(set(NOTES) - set(declared)):
        log.warning("docs/hooks.py: NOTES names %r, which is not a Config field any more", name)
    out = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for f in fields(Config):
        decl = declared.get(f.name, {"annotation": "", "default": "", "comment": ""})
        if decl["comment"] and f.name in NOTES:
            log.warning("docs/hooks.py: NOTES[%r] is not shown: core/config.py comments that field", f.name)
        meaning = _cell(decl["comment"]) if decl["comment"] else NOTES.get(f.name, "")
        if not meaning:
            log.warning("core/config.py: Config.%s has no comment (and docs/hooks.py no note): the configuration "
                        "reference needs a line on what it does", f.name)
        if f.name in SETTING_NAMES:
            meaning += "" if meaning.endswith(".") else "."
            meaning += f" Also on the Settings page (\"{TITLES.get(f.name, f.name)}\"): this is its default."
        default = f.default if f.default is not MISSING else None
        out.append(f"| `{PREFIX}{f.name.upper()}` | {_kind(decl['annotation'])} | "
                   f"{_default(default, decl['default'])} | {meaning} |")
    return "\n".join(out) + "\n"


def settings_reference() -> str:
    from core.config import PREFIX
    from core.project_settings import SETTING_NAMES, TITLES

    out = ["| on the Settings page | default from |", "| --- | --- |"]
    out += [f"| {TITLES.get(name, name)} | `{PREFIX}{name.upper()}` |" for name in SETTING_NAMES]
    return "\n".join(out) + "\n"


_KNOWN_KEYS: list[set[str]] = []


def _known_keys() -> set[str]:
    """`LOUPE_*` names that Loupe reads: Config's fields, and any other name written in the code (tests' switches)."""
    if not _KNOWN_KEYS:
        from core.config import PREFIX, Config

        names = {PREFIX + f.name.upper() for f in fields(Config)} | DOC_ONLY_NAMES
        folders = ("core", "components", "pages", "api", "tests", "scripts", "bench")
        paths = [ROOT / "Makefile", *(path for folder in folders for path in (ROOT / folder).rglob("*")
                                      if path.suffix in (".py", ".sh", ".js", ".mjs", ".toml") and path.is_file())]
        for path in paths:
            names |= set(re.findall(r"LOUPE_[A-Z][A-Z0-9_]*", path.read_text(encoding="utf-8", errors="ignore")))
        _KNOWN_KEYS.append(names)
    return _KNOWN_KEYS[0]


def _check_keys(markdown: str, where: str) -> None:
    for name in sorted(set(re.findall(r"\bLOUPE_[A-Z][A-Z0-9_]*[A-Z0-9]", markdown)) - _known_keys()):
        log.warning("%s: %s is not a key Loupe reads (core/config.py lists them)", where, name)


# ---- the app's pages ---------------------------------------------------------------------------------------------

def _literal(path: Path, name: str) -> Any:
    """A module-level constant, read from the source without importing it (the app's modules import streamlit)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{path.relative_to(ROOT)} has no {name}")


def pages_reference() -> str:
    """The router's pages in its order (streamlit_app.py PAGES), who sees each (components/auth.py VISIBLE_TO)."""
    sections = _literal(ROOT / "streamlit_app.py", "PAGES")
    visible = _literal(ROOT / "components" / "auth.py", "VISIBLE_TO")
    out = ["| section | page | who sees it | what it is for | more |", "| --- | --- | --- | --- | --- |"]
    for section, pages in sections.items():
        for path, options in pages:
            doc = _first_sentence(ast.get_docstring(ast.parse((ROOT / path).read_text(encoding="utf-8"))))
            if path not in PAGE_DOCS:
                log.warning("docs/hooks.py: PAGE_DOCS does not say which docs page tells %s's story", path)
            roles = ", ".join(r for r in ("admin", "reviewer", "viewer") if r in visible.get(path, ()))
            out.append(f"| {section} | **{options['title']}** (`{path}`) | {roles} | {_cell(doc)} | "
                       f"{PAGE_DOCS.get(path, '')} |")
    for path in sorted(set(PAGE_DOCS) - {p for pages in sections.values() for p, _ in pages}):
        log.warning("docs/hooks.py: PAGE_DOCS names %s, which the router (streamlit_app.py) no longer has", path)
    return "\n".join(out) + "\n"


# ---- where each behaviour lives ----------------------------------------------------------------------------------

def _first_sentence(doc: str | None) -> str:
    if not doc:
        return ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`(\"])", paragraph, maxsplit=1)[0]


def module_reference() -> str:
    out = []
    for folder in MODULE_FOLDERS:
        paths = sorted((ROOT / folder).glob("*.py"))
        if not paths:
            log.warning("docs/hooks.py: MODULE_FOLDERS names %s, which holds no Python module", folder)
            continue
        title = "the project folder" if folder == "." else f"`{folder}/`"
        out += [f"### {title}", "", "| module | what it holds |", "| --- | --- |"]
        for path in paths:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            sentence = _first_sentence(doc) or "(no module docstring yet)"
            out.append(f"| `{path.relative_to(ROOT)}` | {_cell(sentence)} |")
        out.append("")
    return "\n".join(out)
