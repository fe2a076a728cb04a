"""The documentation: the generated reference covers every command and file format, and the site builds strictly.

Skipped when mkdocs is not installed (`pip install -e ".[docs]"`).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install -e \".[docs]\"")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _cli_commands() -> list[str]:
    """Every command and group of `lab`, walked through click's own API (not the generator's walk)."""
    import typer

    from lab.cli import app

    names: list[str] = []

    def visit(command, ctx, path: str) -> None:
        names.append(path)
        for name in getattr(command, "list_commands", lambda ctx: [])(ctx):
            sub = command.get_command(ctx, name)
            if not getattr(sub, "hidden", False):
                visit(sub, sub.context_class(sub, info_name=name, parent=ctx), f"{path} {name}")

    root = typer.main.get_command(app)
    visit(root, root.context_class(root, info_name="lab"), "lab")
    return names


def _hand_written() -> str:
    """The text of every hand-written page (the generated ones are not in `docs/`)."""
    return "\n".join(p.read_text() for p in DOCS.rglob("*.md"))


def test_reference_has_every_command_with_its_options() -> None:
    page = gen.render_cli_reference()
    headings = set(re.findall(r"^#+ `([^`]+)` \{#", page, flags=re.M))
    missing = [name for name in _cli_commands() if name not in headings]
    assert not missing, f"commands missing from the generated reference: {missing}"
    propose = page.split("{#lab-propose}")[1].split("\n#")[0]
    for option in ("--space", "--observations", "--batch", "--out", "--seed", "--strategy"):
        assert f"`{option}" in propose


def test_every_command_is_described_in_the_hand_written_docs() -> None:
    """A new command needs a word in the guide (or the contracts), not only its generated reference entry."""
    text = _hand_written()
    missing = [name for name in _cli_commands() if name != "lab" and not re.search(rf"`{re.escape(name)}[` ]", text)]
    assert missing == gen.undescribed_commands(gen.walk_commands(), DOCS)  # the strict build warns on the same
    assert not missing, f"commands no hand-written page under docs/ mentions: {missing}"


def test_format_pages_list_every_top_level_field() -> None:
    for doc in gen.FORMATS:
        page = gen.render_format(doc)
        for target in doc.models:
            model = gen._import(target)
            for name, info in model.model_fields.items():
                if not info.exclude:
                    assert f"| `{info.alias or name}` |" in page, f"{doc.slug}: field {name} of {target}"


def test_field_notes_name_existing_fields() -> None:
    fields = set()
    for doc in gen.FORMATS:
        for target in doc.models:
            for cls in gen._model_classes(gen._import(target)).values():
                fields |= {f"{cls.__name__}.{info.alias or name}" for name, info in cls.model_fields.items()}
    stale = sorted(set(gen.FIELD_NOTES) - fields)
    assert not stale, f"FIELD_NOTES for fields that do not exist: {stale}"


def test_contract_table_marks_what_this_version_has() -> None:
    commands = gen.walk_commands()
    page = gen.render_availability((DOCS / "reference" / "contracts.md").read_text(), commands)
    assert gen.AVAILABILITY_MARKER not in page
    assert "[`lab propose`](cli.md#lab-propose) | yes |" in page


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("material", reason="mkdocs-material is not installed: pip install -e \".[docs]\"")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "cli" / "index.html").is_file()
    assert (tmp_path / "site" / "reference" / "formats" / "scenario" / "index.html").is_file()
