"""The domain's folders are its import rules: each may reach only the roles below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
# Role -> the domain roles its modules may import (besides itself).
ALLOWED = {
    "errors": set(),
    "vocab": set(),
    "ports": {"vocab"},
    "rules": {"vocab", "errors"},
    "to_converse": {"vocab", "rules", "errors"},
    "to_anthropic": {"vocab", "rules", "errors"},
    "services": {"vocab", "rules", "errors", "ports", "to_converse", "to_anthropic"},
}


def _role(path: Path) -> str:
    return path.relative_to(DOMAIN).parts[0].removesuffix(".py")


def _domain_imports(path: Path) -> set[str]:
    roles = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "domain":
            roles |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("domain."):
            roles.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            roles |= {a.name.split(".")[1] for a in node.names if a.name.startswith("domain.")}
    return roles


MODULES = sorted(p for p in DOMAIN.rglob("*.py") if p.name != "__init__.py")


def test_every_domain_module_sits_in_a_known_role() -> None:
    assert {_role(p) for p in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DOMAIN)))
def test_a_domain_module_imports_only_the_roles_its_folder_allows(path: Path) -> None:
    role = _role(path)
    assert _domain_imports(path) - {role} <= ALLOWED[role]
