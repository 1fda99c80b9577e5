"""Prompt templates: files shipped in ``nader/prompts/``, rendered without any evaluation.

Templates use :class:`string.Template` placeholders (``$name``). :func:`render` substitutes a
mapping of plain strings and nothing else — no attribute access, no format specs, no code — and
insists that the mapping has exactly the template's placeholders, so a renamed field fails loudly
instead of leaving ``$cell`` in a prompt. Values are inserted verbatim: text an LLM or a paper
wrote is never interpreted.

The block-format definition (the long, static prefix of every Modifier prompt) is generated from
the operator registry, so a plugin's operator is described to the model exactly like a built-in
one. It goes into a system message marked ``cache=True``.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from pathlib import Path

from pydantic_core import PydanticUndefined

from nader.errors import ConfigError
from nader.ir.graph import is_boundary
from nader.ir.ops import OperatorSpec
from nader.ir.registry import OperatorRegistry
from nader.llm.base import Message

#: the prompt templates shipped inside the package
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@functools.cache
def load_template(name: str) -> str:
    """The text of ``nader/prompts/<name>.txt``, read from beside this package's own modules
    (not by package name: from a folder holding a ``nader/`` checkout, that name can resolve to
    the wrong place)."""
    if not name.replace("_", "").isalnum():
        raise ConfigError(f"invalid prompt template name {name!r}")
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"prompt template {name!r} is missing from nader/prompts/") from err


def template_fields(text: str) -> set[str]:
    """The placeholder names a template uses."""
    names: set[str] = set()
    for match in string.Template.pattern.finditer(text):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
        elif match.group("invalid") is not None:
            raise ConfigError(f"prompt template has a stray '$' at offset {match.start()}")
    return names


def render(name: str, values: Mapping[str, str]) -> str:
    """Fill template ``name`` with ``values`` (strings only, exactly its placeholders)."""
    text = load_template(name)
    wanted = template_fields(text)
    given = set(values)
    if wanted != given:
        missing = ", ".join(sorted(wanted - given)) or "none"
        extra = ", ".join(sorted(given - wanted)) or "none"
        raise ConfigError(f"prompt {name!r}: missing fields {missing}; unexpected fields {extra}")
    for key, value in values.items():
        if not isinstance(value, str):
            raise ConfigError(
                f"prompt {name!r}: field {key!r} must be text, got {type(value).__name__}"
            )
    return string.Template(text).substitute(values).strip() + "\n"


# ----------------------------------------------------------------------------- format definition


def _parameter_signature(spec: OperatorSpec) -> str:
    if spec.varargs is not None:
        return f"(*{spec.varargs})"
    parts = []
    for field_name, info in spec.params.model_fields.items():
        default = info.default
        if info.is_required() or default is PydanticUndefined:
            parts.append(field_name)
        else:
            parts.append(f"{field_name}={default}")
    return f"({', '.join(parts)})" if parts else ""


def _arity_note(spec: OperatorSpec) -> str:
    if spec.min_inputs == 1 and spec.max_inputs == 1:
        return ""
    if spec.max_inputs is None:
        return f" [{spec.min_inputs}+ inputs]"
    if spec.min_inputs == spec.max_inputs:
        return f" [{spec.min_inputs} inputs]"
    return f" [{spec.min_inputs}-{spec.max_inputs} inputs]"


def operator_line(spec: OperatorSpec) -> str:
    """One compact line: signature, arity, summary and example."""
    line = f"- {spec.name}{_parameter_signature(spec)}{_arity_note(spec)}"
    if spec.summary:
        line += f": {spec.summary}"
    if spec.example and spec.example != f"{spec.name}{_parameter_signature(spec)}":
        line += f"; e.g. {spec.example}"
    return line


def block_format_definition(registry: OperatorRegistry) -> str:
    """The format rules plus one line per operator in ``registry`` (plugins included)."""
    lines = [operator_line(spec) for spec in registry if not is_boundary(spec.name)]
    return render("block_format", {"operators": "\n".join(lines)}).strip()


class PromptBook:
    """The system and user messages of every agent task for one operator registry."""

    def __init__(self, registry: OperatorRegistry) -> None:
        self.registry = registry
        self.block_format = block_format_definition(registry)

    def system(self, role: str) -> Message:
        """The static prefix for ``role`` (cached by providers that support it)."""
        if role == "modifier":
            text = render("system_modifier", {"block_format": self.block_format})
        else:
            text = render(f"system_{role}", {})
        return Message("system", text.strip(), cache=True)

    def user(self, template: str, **values: str) -> Message:
        return Message("user", render(template, values).strip())
