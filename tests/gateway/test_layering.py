"""The packages of ``gateway/`` import one way: commands -> http -> flow -> kafka -> storage -> ops -> the ground."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

GATEWAY = ROOT / "gateway"
# Higher layers may import lower ones (and their own), never the reverse.
LAYERS = {"cli": 7, "__main__": 7, "commands": 6, "http": 5, "flow": 4, "kafka": 3, "storage": 2, "ops": 1}
GROUND = 0  # config, errors, outbound, ids, clock: what every part stands on


def _layer(module: str) -> int:
    """The layer of ``gateway.<part>...``."""
    part = module.split(".")[1]
    return LAYERS.get(part, GROUND)


def _gateway_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gateway."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("gateway."))
    return found


def test_no_import_runs_upward() -> None:
    upward = []
    for path in sorted(GATEWAY.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module == "gateway.__init__":
            continue
        for imported in _gateway_imports(path):
            if _layer(imported) > _layer(module):
                upward.append(f"{module} imports {imported}")
    assert not upward, "imports that run upward:\n" + "\n".join(upward)


def test_every_package_is_a_known_layer() -> None:
    """A new package under gateway/ gets a place in LAYERS (the ground holds modules only)."""
    packages = {path.parent.name for path in GATEWAY.glob("*/__init__.py")}
    assert packages <= set(LAYERS), packages - set(LAYERS)
