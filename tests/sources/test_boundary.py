"""The sources see the ledger through one door: ``bounceback.ledger.sink``.

Every import in ``src/bounceback/sources`` is read with ``ast`` (runtime imports,
imports under ``TYPE_CHECKING`` and inside functions alike); any other module of
``bounceback.ledger`` fails the test, naming the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bounceback.sources

SOURCES = Path(bounceback.sources.__file__).parent
ALLOWED = "bounceback.ledger.sink"


def package_of(path: Path) -> str:
    """The package a file's relative imports start from."""
    dotted = "bounceback." + ".".join(path.relative_to(SOURCES.parent).with_suffix("").parts)
    return (
        dotted.removesuffix(".__init__") if path.name == "__init__.py" else dotted.rsplit(".", 1)[0]
    )


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) for each module the code imports, relative imports resolved."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # "from bounceback.ledger import tables" imports bounceback.ledger.tables.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_forbidden(module: str) -> bool:
    inside_ledger = module == "bounceback.ledger" or module.startswith("bounceback.ledger.")
    return inside_ledger and not (module == ALLOWED or module.startswith(ALLOWED + "."))


def test_sources_import_nothing_of_the_ledger_but_the_sink() -> None:
    files = sorted(SOURCES.rglob("*.py"))
    assert len(files) > 10  # the package was found, with its subpackages
    bad = [
        f"{path.relative_to(SOURCES.parent)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(path.read_text("utf-8"), package_of(path))
        if is_forbidden(module)
    ]
    assert not bad, "sources reach past bounceback.ledger.sink:\n" + "\n".join(bad)


def test_the_check_sees_every_form_of_import() -> None:
    # The reader itself: each spelling of a ledger import is caught, the sink is not.
    caught = [
        "import bounceback.ledger.service",
        "from bounceback.ledger import tables",
        "from bounceback.ledger.process import Outcome",
        "if TYPE_CHECKING:\n    from bounceback.ledger.service import Ledger",
        "def f():\n    from ...ledger import tables",  # from bounceback.sources.webhooks
    ]
    allowed = ["from bounceback.ledger.sink import Sink", "from bounceback.ledger import sink"]
    package = package_of(SOURCES / "webhooks" / "ses.py")  # bounceback.sources.webhooks
    for text, expected in [(t, True) for t in caught] + [(t, False) for t in allowed]:
        modules = [module for _, module in imported_modules(text, package)]
        assert any(is_forbidden(m) for m in modules) is expected, (text, modules)
