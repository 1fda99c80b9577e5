"""``nader config schema`` and ``nader config docs``: the config reference, from the models.

The pydantic models of the session config are the one source of truth; the JSON Schema and
``docs/config.md`` are generated from them (a test fails when the checked-in page is stale).
The models document their keys with ``#:`` comments above each field (Sphinx's convention),
which pydantic does not see; they are read here from the models' source with ``ast`` and put
into the schema as ``description``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DOCS_PATH = Path("docs") / "config.md"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="the session config's JSON Schema and reference")
    actions = parser.add_subparsers(dest="config_command", required=True)
    schema = actions.add_parser("schema", help="print the JSON Schema of a session config")
    schema.set_defaults(handler=run_schema)
    docs = actions.add_parser("docs", help="print (or write) the Markdown config reference")
    docs.add_argument("--out", metavar="PATH", help="write it here (e.g. docs/config.md)")
    docs.set_defaults(handler=run_docs)


def run_schema(args: argparse.Namespace, runtime: Any) -> int:
    print(json.dumps(config_schema(), indent=2))
    return 0


def run_docs(args: argparse.Namespace, runtime: Any) -> int:
    text = config_reference()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(args.out)
    else:
        sys.stdout.write(text)
    return 0


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """``field → text`` of the ``#:`` comment lines right above each field of ``model``."""
    try:
        source = textwrap.dedent(inspect.getsource(model))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    found: dict[str, str] = {}
    (cls,) = ast.parse(source).body
    assert isinstance(cls, ast.ClassDef)
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            comment: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                comment.insert(0, lines[row].strip()[2:].strip())
                row -= 1
            if comment:
                found[node.target.id] = " ".join(comment)
    return found


def _models() -> dict[str, type[BaseModel]]:
    """Every model reachable from the session config, by class name (the schema's ``$defs``)."""
    from nader.session.config import SessionConfig

    seen: dict[str, type[BaseModel]] = {}
    todo: list[type[BaseModel]] = [SessionConfig]
    while todo:
        model = todo.pop()
        if model.__name__ in seen:
            continue
        seen[model.__name__] = model
        for info in model.model_fields.values():
            for candidate in _model_args(info.annotation):
                todo.append(candidate)
    return seen


def _model_args(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _model_args(arg)
    return found


def config_schema() -> dict[str, Any]:
    """The JSON Schema of ``config.toml``, with each key's ``#:`` comment as its description."""
    from nader.session.config import SessionConfig

    schema = SessionConfig.model_json_schema()
    schema["title"] = "nader session config"
    models = _models()
    for name, definition in [("SessionConfig", schema), *schema.get("$defs", {}).items()]:
        model = models.get(name)
        if model is None:
            continue
        if model.__doc__ and "description" not in definition:
            definition["description"] = inspect.cleandoc(model.__doc__)
        for key, text in field_comments(model).items():
            definition.get("properties", {}).get(key, {}).setdefault("description", text)
    return schema


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and "additionalProperties" in prop:
        extra = prop["additionalProperties"]
        return f"table of {_type(extra) if isinstance(extra, dict) else 'any'}"
    if prop.get("format") == "path":
        return "path"
    return str(kind)


def _bounds(prop: dict[str, Any]) -> str:
    words = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}
    found = [f"{sign} {prop[k]}" for k, sign in words.items() if k in prop]
    for option in prop.get("anyOf", []):
        found += [f"{sign} {option[k]}" for k, sign in words.items() if k in option]
    return ", ".join(found)


def _cell(text: str) -> str:
    return text.replace("``", "`").replace("|", "\\|").replace("\n", " ")


def config_reference() -> str:
    """``docs/config.md``: one section per table, one row per key."""
    schema = config_schema()
    defs = schema["$defs"]
    out = [
        "# Config reference",
        "",
        "<!-- generated by `nader config docs --out docs/config.md` from the pydantic models; "
        "do not edit (tests/session/test_config_reference.py fails when it is stale) -->",
        "",
        "A session config is a TOML file (`python -m nader run CONFIG.toml`). Every table is "
        "validated before any work starts; an unknown key is an error that names it and "
        "suggests the closest known key. `--set table.key=value` overrides a key. The JSON "
        "Schema: `nader config schema`.",
        "",
    ]
    required = set(schema.get("required", []))
    sections = [(table, prop) for table, prop in schema["properties"].items()]
    nested: list[str] = []
    for table, prop in sections:
        ref = _type(prop)
        out += _section(f"[{table}]", defs[ref], defs, nested, table in required)
    for name in nested:
        out += _section(name, defs[name], defs, [], False)
    return "\n".join(out).rstrip() + "\n"


def _default(model: type[BaseModel] | None, key: str, prop: dict[str, Any]) -> str:
    """The default as TOML-ish JSON; a ``default_factory`` is called (``[]``, ``{}``)."""
    if model is not None and key in model.model_fields:
        value = model.model_fields[key].get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            return "(table)"
        return json.dumps(value, default=str)
    return json.dumps(prop.get("default"))


def _section(
    title: str, definition: dict[str, Any], defs: dict[str, Any], nested: list[str], required: bool
) -> list[str]:
    model = _models().get(definition.get("title", ""))
    lines = [f"## `{title}`", ""]
    if definition.get("description"):
        text = _cell(definition["description"])
        lines += [text + (" (required table)" if required else ""), ""]
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    needed = set(definition.get("required", []))
    for key, prop in definition.get("properties", {}).items():
        kind = _type(prop)
        nested += [name for name in defs if name in kind.split() and name not in nested]
        default = "required" if key in needed else _default(model, key, prop)
        bounds = _bounds(prop)
        text = prop.get("description", "")
        if bounds:
            text = f"{text} ({bounds})" if text else f"({bounds})"
        lines.append(f"| `{key}` | {_cell(kind)} | `{_cell(default)}` | {_cell(text)} |")
    return [*lines, ""]
