"""Every message the code asks for exists, and every call passes the fields its text needs.

Why static: a `{finger}` left unfilled reaches the clerk only on the path that shows it (a
permanent rejection, say), which a walk through the app may never take.  So every call site is
read: `t("key", field=...)` and every exception raised with a catalog code (`code="..."`, or a
class whose `code` is fixed) must pass the placeholders of the message and of its next step, in
both languages.  A call that passes `**params` is checked for the key only.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

from siaptui.i18n import LANGUAGES, catalog, placeholders

ROOT = Path(__file__).resolve().parent.parent / "siaptui"
#: Filled by `errors.describe` for every error.
DESCRIBE_FILLS = {"detail"}


def _sources() -> Iterator[Tuple[Path, ast.AST]]:
    for path in sorted(ROOT.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _passed(call: ast.Call) -> Optional[Set[str]]:
    """Keyword names a call passes; None when it also passes **params (unknowable here)."""
    if any(k.arg is None for k in call.keywords):
        return None
    return {k.arg for k in call.keywords if k.arg}


def _needs(key: str) -> Set[str]:
    needed: Set[str] = set()
    for lang in LANGUAGES:
        text = catalog(lang).get(key)
        if text is not None:
            needed |= placeholders(text)
    return needed


def _fixed_codes() -> Dict[str, str]:
    """Exception classes whose catalog code is a class attribute and whose __init__ is the base's."""
    codes: Dict[str, str] = {}
    for _path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            body = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            for item in node.body:
                if (isinstance(item, ast.Assign) and len(item.targets) == 1 and _name(item.targets[0]) == "code"
                        and isinstance(item.value, ast.Constant) and "__init__" not in body):
                    codes[node.name] = str(item.value.value)
    return codes


def _calls() -> Iterator[Tuple[str, ast.Call]]:
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield f"{path.relative_to(ROOT.parent)}:{node.lineno}", node


def test_every_translated_key_exists_and_gets_its_fields() -> None:
    problems: List[str] = []
    for where, call in _calls():
        if _name(call.func) != "t" or not call.args or not isinstance(call.args[0], ast.Constant):
            continue
        key = call.args[0].value
        if not isinstance(key, str):
            continue
        if any(key not in catalog(lang) for lang in LANGUAGES):
            problems.append(f"{where}: {key} is not in every catalog")
            continue
        passed = _passed(call)
        if passed is not None and _needs(key) - passed:
            problems.append(f"{where}: {key} needs {sorted(_needs(key) - passed)}")
    assert not problems, "\n".join(problems)


def test_every_error_raised_gets_the_fields_of_its_message_and_next_step() -> None:
    fixed = _fixed_codes()
    problems: List[str] = []
    for where, call in _calls():
        code = next((k.value.value for k in call.keywords
                     if k.arg == "code" and isinstance(k.value, ast.Constant)), None)
        if code is None:
            code = fixed.get(_name(call.func))
        if not isinstance(code, str) or not code:
            continue
        key = f"error.{code}"
        if any(key not in catalog(lang) for lang in LANGUAGES):
            problems.append(f"{where}: {key} is not in every catalog")
            continue
        passed = _passed(call)
        if passed is None:
            continue
        missing = (_needs(key) | _needs(f"{key}.fix")) - passed - DESCRIBE_FILLS - {"code"}
        if missing:
            problems.append(f"{where}: {key} needs {sorted(missing)}")
    assert not problems, "\n".join(problems)
