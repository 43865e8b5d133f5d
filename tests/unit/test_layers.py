"""The hexagon's rule, checked: the domain imports only the stdlib, attrs and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_IN_DOMAIN = {"attrs", "domain", "__future__"}


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.setdefault(str(path.relative_to(ROOT)), set()).update(n.split(".")[0] for n in names)
    return found


def test_domain_imports_only_stdlib_attrs_and_itself() -> None:
    leaks = {
        path: sorted(top for top in tops if top not in ALLOWED_IN_DOMAIN and top not in sys.stdlib_module_names)
        for path, tops in _imports("domain").items()
    }
    assert {path: tops for path, tops in leaks.items() if tops} == {}


def test_adapters_never_import_entrypoints() -> None:
    offenders = [path for path, tops in _imports("adapters").items() if "entrypoints" in tops]
    assert offenders == []


def test_the_domain_has_no_cattrs_or_frameworks() -> None:
    # A direct statement of the user's design rule, in case stdlib names ever shadow.
    tops = set().union(*_imports("domain").values())
    assert not tops & {"cattrs", "falcon", "requests", "fire", "uvicorn"}
