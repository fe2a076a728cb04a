"""Generate the reference pages from the code: the `lab` command tree and the file formats' pydantic models.

Used two ways:

- as a mkdocs hook (`hooks: [docs/gen_reference.py]` in `mkdocs.yml`): every `mkdocs build` / `mkdocs serve`
  renders the pages in memory and adds them to the site, so the reference can never go stale and nothing
  generated is committed;
- as a script, to read the pages without building the site: `python docs/gen_reference.py --out /tmp/ref`.

The command reference walks `typer.main.get_command(lab.cli.app)` and renders each command's usage, help and
options as `lab COMMAND --help` prints them (the same help records). The file formats come from each model's
`model_json_schema()`, one table per model (field, type, default, description).
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _use_this_checkout() -> None:
    """Put this checkout first on the import path, so its code is documented (not an editable install of another
    checkout); mkdocs restores `sys.path` after loading a hook, so this runs when the pages are generated."""
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    lab = sys.modules.get("lab")
    if lab is not None and ROOT not in Path(lab.__file__).resolve().parents:
        raise RuntimeError(f"the lab package was imported from {lab.__file__}, not from {ROOT}")

#: Site path of the generated command reference.
CLI_PAGE = "reference/cli.md"
#: Marker a hand-written page puts where the table of contracted commands (and whether this version has them) goes.
AVAILABILITY_MARKER = "<!-- lab:command-availability -->"


# --------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class OptionDoc:
    """One parameter of a command, as its `--help` shows it."""

    names: str
    help: str
    kind: str  # "option" or "argument"


@dataclass(frozen=True)
class CommandDoc:
    """One command or command group of the CLI."""

    path: tuple[str, ...]  # ("lab", "campaign", "run")
    usage: str
    help: str
    options: tuple[OptionDoc, ...]
    subcommands: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """The command line that calls it, e.g. `lab campaign run`."""
        return " ".join(self.path)

    @property
    def anchor(self) -> str:
        """The heading id on the reference page, e.g. `lab-campaign-run`."""
        return anchor_for(self.path)

    @property
    def is_group(self) -> bool:
        """Whether it only holds other commands."""
        return bool(self.subcommands)


def anchor_for(path: typing.Sequence[str]) -> str:
    """Heading id of a command on the reference page (`lab world fit` -> `lab-world-fit`)."""
    return re.sub(r"[^a-z0-9]+", "-", " ".join(path).lower()).strip("-")


def walk_commands(app: object | None = None) -> list[CommandDoc]:
    """Every command and group of `app` (default: `lab.cli.app`), depth first, in `--help` order."""
    import typer

    if app is None:
        _use_this_checkout()
        from lab.cli import app
    root = typer.main.get_command(app)
    found: list[CommandDoc] = []

    def visit(command, ctx, path: tuple[str, ...]) -> None:
        names = list(command.list_commands(ctx)) if hasattr(command, "list_commands") else []
        options = []
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or param.name == "help":
                continue
            options.append(OptionDoc(names=record[0], help=record[1], kind=param.param_type_name))
        found.append(CommandDoc(
            path=path, usage=command.get_usage(ctx).strip(), help=inspect.cleandoc(command.help or ""),
            options=tuple(options), subcommands=tuple(names),
        ))
        for name in names:
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            visit(sub, sub.context_class(sub, info_name=name, parent=ctx), (*path, name))

    visit(root, root.context_class(root, info_name="lab"), ("lab",))
    return found


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>").replace("<", "&lt;").replace(
        "&lt;br>", "<br>")


def _help_markdown(text: str) -> str:
    """A command's docstring as markdown paragraphs (typer's `\\b` no-rewrap markers dropped)."""
    return "\n\n".join(part.replace("\b\n", "").strip() for part in text.split("\n\n") if part.strip())


def render_cli_reference(commands: list[CommandDoc] | None = None) -> str:
    """The markdown page of every command: usage, help, options (from the CLI itself)."""
    commands = commands if commands is not None else walk_commands()
    lines = [
        "# Command reference",
        "",
        "Generated from the command line itself (`lab COMMAND --help`) each time the site is built. Every command",
        "exits 0 on success and 2 with one line on stderr naming the offending option, field, row or column on bad",
        "input; a few checks exit 1 when what they check fails (noted in their help).",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for c in commands[1:]:
        summary = c.help.split("\n\n")[0].replace("\n", " ")
        lines.append(f"| [`{c.name}`](#{c.anchor}) | {_cell(summary)} |")
    for c in commands:
        depth = min(len(c.path) + 1, 4)
        lines += ["", f"{'#' * depth} `{c.name}` {{#{c.anchor}}}", "", "```text", c.usage, "```", ""]
        if c.help:
            lines += [_help_markdown(c.help), ""]
        if c.subcommands:
            subs = ", ".join(f"[`{n}`](#{anchor_for((*c.path, n))})" for n in c.subcommands)
            lines += [f"Commands: {subs}.", ""]
        if c.options:
            lines += ["| option | description |", "|---|---|"]
            for o in c.options:
                names = o.names.replace("`", "").replace("|", "\\|")
                lines.append(f"| `{names}` | {_cell(o.help)} |")
    return "\n".join(lines) + "\n"


def command_names(commands: list[CommandDoc] | None = None) -> set[str]:
    """The full names of every command and group, e.g. {"lab", "lab campaign", "lab campaign run", ...}."""
    return {c.name for c in (commands if commands is not None else walk_commands())}


def render_availability(markdown: str, commands: list[CommandDoc]) -> str:
    """Replace the availability marker by a table: each contracted command and whether this version has it."""
    if AVAILABILITY_MARKER not in markdown:
        return markdown
    have = command_names(commands)
    contracted = sorted(dict.fromkeys(re.findall(r"^- `(lab(?: [a-z0-9-]+)+)`", markdown, flags=re.M)))
    rows = ["| contracted command | in this version |", "|---|---|"]
    for name in contracted:
        link = f"[`{name}`](cli.md#{anchor_for(name.split())})" if name in have else f"`{name}`"
        rows.append(f"| {link} | {'yes' if name in have else 'not yet'} |")
    return markdown.replace(AVAILABILITY_MARKER, "\n".join(rows))


# ------------------------------------------------------------------------------------------ file formats


@dataclass(frozen=True)
class FormatDoc:
    """One file format: its page, title, what it is, the models it is made of, and an example file."""

    slug: str
    title: str
    intro: str
    models: tuple[str, ...]  # "module:Class"; the first is the file's top level
    example: str = ""  # a path relative to the repository: shown verbatim
    notes: str = ""


FORMATS: tuple[FormatDoc, ...] = (
    FormatDoc(
        "search-space", "Search space file (YAML)",
        "The parameters, linear constraints and objectives of `lab propose --space FILE`. Parameters are continuous "
        "in `[low, high]` unless `values:` lists discrete levels; a constraint is a (weighted) sum of parameters "
        "that `equals`, is `at_most` or `at_least` a value.",
        ("optimizers.search_space:SearchSpace",),
    ),
    FormatDoc(
        "scenario", "Scenario file (YAML)",
        "A material system the lab runs campaigns on (`lab campaign run --scenario-file FILE`, `lab scenario check "
        "FILE`, `lab world fit --scenario-file FILE`). Relative paths in `world` resolve against the file's folder.",
        ("lab.scenarios.spec:ScenarioSpec",),
        example="docs/examples/pedot_additives/scenario.yaml",
    ),
    FormatDoc(
        "campaign", "Campaign file (YAML)",
        "A campaign run by `lab campaign start --config FILE` or served on its schedule by `lab serve --config FILE`. "
        "Give `scenario:` (a built-in scenario) or `scenario_file:`; `hardware_config` and `scenario_file` are "
        "relative to the campaign file.",
        ("lab.campaign.config:CampaignConfig",),
        notes="```yaml\nscenario: p3ht-cnt\ndays: 5\nbatch: 48\nseed: 1\nhardware: emulated\n"
              "retries: 2\nquarantine_after: 5\nschedule: {every_hours: 24}   # or {daily_at: \"07:30\"}\n```",
    ),
    FormatDoc(
        "bench", "Bench file (YAML)",
        "The instruments of a bench (`--hardware-config FILE`, `lab emulate --config FILE`, `lab stations check "
        "--config FILE`). The top level is the drivers' `HardwareConfig`; `emulator://NAME` link URLs are served by "
        "emulators (`lab emulate` writes the same file with their `socket://` URLs), real ports such as "
        "`/dev/ttyUSB0` reach instruments. Two optional top-level sections belong to the lab: `stations` "
        "(`StationSettings`) and `faults` (`FaultConfig`, emulators only).",
        ("drivers.config:HardwareConfig", "lab.stations.hardware_setup:StationSettings",
         "drivers.emulators.faults:FaultConfig"),
        example="drivers/examples/emulated.yaml",
    ),
)


_PARAMETER = {
    "name": "column name in the observation and output files",
    "low": "lower bound (default with `values`: the smallest level)",
    "high": "upper bound (default with `values`: the largest level)",
    "values": "discrete levels; the parameter takes only these",
    "unit": "unit shown in reports (e.g. `%`)",
}
_CONSTRAINT = {
    "sum": "parameter names whose (weighted) sum is constrained",
    "weights": "one weight per name (default: 1 each, a plain sum)",
    "equals": "the sum equals this (give exactly one of `equals`, `at_most`, `at_least`)",
    "at_most": "the sum is at most this",
    "at_least": "the sum is at least this",
}
_OBJECTIVE = {
    "name": "column (search space) or quantity (scenario) that is optimized",
    "goal": "direction of the optimization",
    "scale": "log: model log(value) (positive, heavy-tailed quantities)",
    "unit": "unit shown in reports",
}

#: Descriptions of fields whose model gives none, as `Model.field` (`tests/test_docs.py` checks every key
#: names a field that exists, so a renamed field cannot keep a stale note).
FIELD_NOTES: dict[str, str] = {
    **{f"Parameter.{k}": v for k, v in _PARAMETER.items()},
    **{f"ParameterSpec.{k}": v for k, v in _PARAMETER.items()},
    **{f"LinearConstraint.{k}": v for k, v in _CONSTRAINT.items()},
    **{f"ConstraintSpec.{k}": v for k, v in _CONSTRAINT.items()},
    **{f"Objective.{k}": v for k, v in _OBJECTIVE.items()},
    **{f"ObjectiveSpec.{k}": v for k, v in _OBJECTIVE.items()},
    "SearchSpace.parameters": "the recipe's parameters",
    "SearchSpace.constraints": "linear equalities and inequalities every proposal satisfies",
    "SearchSpace.objectives": "the objective columns (one or more)",
    "ScenarioSpec.name": "the scenario's name: 1-50 lowercase letters, digits, `-` or `_`",
    "ScenarioSpec.description": "one line shown by `lab scenario check` and in reports",
    "ScenarioSpec.parameters": "the recipe's parameters, as in a search-space file",
    "ScenarioSpec.constraints": "linear constraints, as in a search-space file",
    "ScenarioSpec.recipe": "how one recipe becomes samples (stock solutions mixed by volume)",
    "ScenarioSpec.route": "the stations each sample visits, in order, and what each measures",
    "ScenarioSpec.derived": "quantity: formula of other quantities (`+ - * / **`, `log log10 exp sqrt abs minimum "
                            "maximum`); unknown names and cycles are refused",
    "ScenarioSpec.objectives": "a measured or derived quantity, or a recipe cost from `prices`",
    "ScenarioSpec.units": "quantity: unit, shown in reports",
    "ScenarioSpec.model": "how the objectives are modelled",
    "ScenarioSpec.world": "the ground truth of simulated and emulated runs: `emulate` or `builtin`",
    "RouteStep.station": "the station kind; with `--hardware emulated` its instruments serve the world's values",
    "RouteStep.measures": "quantities measured at this station (each by one station only)",
    "HardwareConfig.mixer": "the syringe pumps of the flow mixer",
    "HardwareConfig.gantry": "the XYZ gantry (Grbl)",
    "HardwareConfig.source_meter": "the source meter of the 4-point probe",
    "HardwareConfig.probe": "how the 4-point probe measures",
    "HardwareConfig.spectrometer": "the UV-vis-NIR spectrometer",
    "HardwareConfig.thickness": "the thickness gauge (serial profilometer or manual entry)",
    "HardwareConfig.wafer": "film positions on the wafer",
    "LinkConfig.url": "a serial port (`/dev/ttyUSB0`), `socket://HOST:PORT`, or `emulator://NAME` (started by "
                      "the lab)",
    "LinkConfig.baudrate": "serial line speed [baud]",
    "PumpSlotConfig.stock": "the stock solution this pump holds (`stations.stocks` maps components to it)",
    "PumpSlotConfig.address": "the pump's address on the shared line",
    "PumpSlotConfig.syringe": "the syringe fitted to the pump",
    "MixerConfig.rate_ul_min": "dispense rate [uL/min]",
    "MixerConfig.safe_mode_timeout_s": "pump safe-mode timeout [s]: pumps stop when the host goes silent",
    "MixerConfig.limits": "the pumps' speed and volume limits",
    "SpectrometerConfig.kind": "serial: a serial spectrometer on `link`; seabreeze: an Ocean Optics device "
                               "(`closed-loop-lab[seabreeze]`)",
    "SpectrometerConfig.serial_number": "seabreeze: which device (default: the first found)",
    "SpectrometerConfig.integration_time_us": "integration time [us]",
    "SpectrometerConfig.scans_to_average": "scans averaged per reading",
    "ThicknessConfig.kind": "serial: a profilometer on `link`; manual: thicknesses entered by hand",
    "WaferLayout.origin_xy_mm": "position of slot 0 [mm]",
    "WaferLayout.pitch_xy_mm": "distance between neighbouring slots [mm]",
    "WaferLayout.columns": "slots per row",
    "WaferLayout.rows": "rows of slots",
    "FaultConfig.seed": "seed of the injected faults (repeatable runs)",
    "FaultConfig.drop": "probability that a reply is never sent (the driver times out)",
    "FaultConfig.corrupt": "probability that one byte of a reply is corrupted",
    "FaultConfig.alarm": "probability of a device alarm where the instrument can raise one",
    "FaultConfig.disconnect": "probability that the emulator closes the connection instead of replying",
    "FaultConfig.only_requests": "fault only replies to requests containing one of these substrings",
    "FaultConfig.max_per_kind": "at most this many faults of each kind",
}


def _import(target: str) -> type:
    _use_this_checkout()
    module, _, name = target.partition(":")
    __import__(module)
    return getattr(sys.modules[module], name)


def _model_classes(root: type) -> dict[str, type]:
    """Every pydantic model reachable from `root`'s fields, by class name (the JSON schema's `$defs` keys)."""
    from pydantic import BaseModel

    found: dict[str, type] = {}

    def visit(tp: object) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                return
            found[tp.__name__] = tp
            for info in tp.model_fields.values():
                visit(info.annotation)
        for arg in typing.get_args(tp):
            visit(arg)

    visit(root)
    return found


def _docstring_attributes(cls: type) -> dict[str, str]:
    """`Attributes:` entries of a Google-style class docstring: name -> description."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    match = re.search(r"^Attributes:\n((?:[ \t]+.*\n?|\n)+)", doc, flags=re.M)
    if not match:
        return {}
    found: dict[str, str] = {}
    current = None
    for line in match.group(1).splitlines():
        entry = re.match(r"^\s{2,8}(\w+)(?: \(.*?\))?: (.*)$", line)
        if entry:
            current = entry.group(1)
            found[current] = entry.group(2).strip()
        elif current and line.strip():
            found[current] += " " + line.strip()
    return found


def _summary(doc: str | None) -> str:
    """A model's description without its `Attributes:`/`Args:` sections."""
    text = inspect.cleandoc(doc or "")
    return re.split(r"^(?:Attributes|Args|Example|Examples):\s*$", text, flags=re.M)[0].strip()


_BOUNDS = (("exclusiveMinimum", "> {}"), ("minimum", "≥ {}"), ("exclusiveMaximum", "< {}"), ("maximum", "≤ {}"),
           ("minLength", "length ≥ {}"), ("maxLength", "length ≤ {}"), ("minItems", "≥ {} items"),
           ("maxItems", "≤ {} items"), ("pattern", "matches `{}`"))


def _type(schema: dict, anchors: dict[str, str]) -> str:
    """A JSON-schema type in words, with links to the nested models' tables."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{anchors[name]})" if name in anchors else name
    if "anyOf" in schema or "oneOf" in schema:
        options = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if s.get("type") != "null"]
        nullable = len(options) < len(schema.get("anyOf", schema.get("oneOf", [])))
        text = " or ".join(_type(s, anchors) for s in options)
        return text + (" or null" if nullable else "")
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            text = "[" + ", ".join(_type(s, anchors) for s in schema["prefixItems"]) + "]"
        else:
            text = "list of " + _type(schema.get("items", {}), anchors)
    elif kind == "object":
        values = schema.get("additionalProperties")
        text = "mapping of string to " + _type(values, anchors) if isinstance(values, dict) else "mapping"
    elif isinstance(kind, list):
        text = " or ".join(kind)
    else:
        text = {"number": "number", "integer": "integer", "string": "string", "boolean": "boolean",
                None: "any"}.get(kind, str(kind))
    fixed = {"minItems", "maxItems"} if "prefixItems" in schema else set()
    bounds = [fmt.format(schema[key]) for key, fmt in _BOUNDS if key in schema and key not in fixed]
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _default(name: str, prop: dict, cls: type | None, required: set[str]) -> str:
    if "default" in prop:
        return f"`{json.dumps(prop['default'])}`"
    if name in required:
        return "required"
    if cls is not None:
        for field_name, info in cls.model_fields.items():
            if (info.alias or field_name) == name and info.default_factory is not None:
                try:
                    return f"`{json.dumps(info.default_factory(), default=str)}`"
                except TypeError:  # a factory that takes the validated data
                    return "computed"
    return ""


def _excluded(cls: type | None) -> set[str]:
    """Fields that are not part of the file (set by the loader, `exclude=True`)."""
    if cls is None:
        return set()
    return {info.alias or name for name, info in cls.model_fields.items() if info.exclude}


def render_model_tables(roots: typing.Sequence[type]) -> str:
    """One table per model reachable from `roots` (roots first, then nested models in order of use)."""
    classes: dict[str, type] = {}
    schemas: dict[str, dict] = {}
    order: list[str] = []
    for root in roots:
        schema = root.model_json_schema()
        classes.update(_model_classes(root))
        defs = schema.pop("$defs", {})
        for name, sub in [(root.__name__, schema), *defs.items()]:
            schemas.setdefault(name, sub)
        queue = [root.__name__]
        while queue:  # breadth first, in field order: the page reads from the top level down
            name = queue.pop(0)
            if name in order:
                continue
            order.append(name)
            text = json.dumps(schemas[name].get("properties", {}))
            queue += [n for n in re.findall(r'"#/\$defs/([^"]+)"', text) if n not in order]
    anchors = {name: re.sub(r"[^a-z0-9]+", "-", name.lower()) for name in order}
    lines: list[str] = []
    for name in order:
        schema, cls = schemas[name], classes.get(name)
        attributes = _docstring_attributes(cls) if cls is not None else {}
        required = set(schema.get("required", []))
        lines += ["", f"### `{name}` {{#{anchors[name]}}}", ""]
        summary = _summary(cls.__doc__ if cls is not None else schema.get("description"))
        if summary:
            lines += [summary, ""]
        props = {k: v for k, v in schema.get("properties", {}).items() if k not in _excluded(cls)}
        if not props:
            lines += ["(no fields)"]
            continue
        lines += ["| field | type | default | description |", "|---|---|---|---|"]
        for key, prop in props.items():
            description = prop.get("description") or attributes.get(key) or FIELD_NOTES.get(f"{name}.{key}", "")
            lines.append(f"| `{key}` | {_cell(_type(prop, anchors))} | {_cell(_default(key, prop, cls, required))} | "
                         f"{_cell(description)} |")
        if schema.get("additionalProperties") is False:
            lines += ["", "Other keys are refused."]
    return "\n".join(lines)


def render_format(doc: FormatDoc) -> str:
    """The markdown page of one file format."""
    roots = [_import(target) for target in doc.models]
    lines = [f"# {doc.title}", "", doc.intro, "",
             "Generated from the pydantic models (`" + "`, `".join(m.replace(":", ".") for m in doc.models)
             + "`) each time the site is built. A bad file exits 2 with one line naming the first bad field "
             "(e.g. `route.0.station`), before anything is written."]
    if doc.notes:
        lines += ["", doc.notes]
    if doc.example:
        text = (ROOT / doc.example).read_text()
        lines += ["", f"Example (`{doc.example}`):", "", "```yaml", text.rstrip(), "```"]
    lines += ["", "## Fields", render_model_tables(roots)]
    return "\n".join(lines) + "\n"


def render_formats_index() -> str:
    """The index of the generated file-format pages."""
    lines = ["# File formats", "",
             "The YAML files the lab reads, generated from the models that validate them. CSV, JSON and Parquet "
             "files the commands read and write are described in [Data files](../data-files.md).", ""]
    for doc in FORMATS:
        lines.append(f"- [{doc.title}]({doc.slug}.md): {doc.intro.split('. ')[0].rstrip('.')}.")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- the pages


def generate_pages() -> dict[str, str]:
    """Every generated page: site path (relative to `docs/`) -> markdown."""
    pages = {CLI_PAGE: render_cli_reference(), "reference/formats/index.md": render_formats_index()}
    for doc in FORMATS:
        pages[f"reference/formats/{doc.slug}.md"] = render_format(doc)
    return pages


# mkdocs hooks (https://www.mkdocs.org/user-guide/configuration/#hooks) ----------------------------------

_commands: list[CommandDoc] = []


def undescribed_commands(commands: list[CommandDoc], docs_dir: Path) -> list[str]:
    """Commands that no hand-written page under `docs_dir` names in code (`lab x y` followed by a backtick or space)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in Path(docs_dir).rglob("*.md"))
    return [c.name for c in commands[1:] if not re.search(rf"`{re.escape(c.name)}[` ]", text)]


def on_files(files, config):  # noqa: ANN001, ANN201 (mkdocs' hook signature)
    """Add the generated pages to the site (in memory: nothing is written to `docs/`).

    A command that no hand-written page mentions is a warning, so `mkdocs build --strict` fails on it: a new
    command needs a word in the guide (or in the contracts), not only its generated entry.
    """
    import logging

    from mkdocs.structure.files import File

    _commands[:] = walk_commands()
    for name in undescribed_commands(_commands, Path(config["docs_dir"])):
        logging.getLogger("mkdocs.hooks.gen_reference").warning(
            f"command `{name}` is described in no hand-written page under docs/ (only in the generated reference)")
    for path, text in generate_pages().items():
        if files.get_file_from_path(path) is not None:
            files.remove(files.get_file_from_path(path))
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown, page, config, files):  # noqa: ANN001, ANN201
    """Fill the table of contracted commands on the page that asks for it."""
    return render_availability(markdown, _commands or walk_commands())


def main(argv: list[str] | None = None) -> int:
    """Write the generated pages under `--out` (to read them without building the site)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the pages into")
    args = parser.parse_args(argv)
    for path, text in generate_pages().items():
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
