"""Docs that are checked: every hook has a section in docs/plugins.md, a docstring in the fixed
template, a runnable example, and a test in this folder that implements it."""

from __future__ import annotations

import ast
import re
import types

import pytest
from plugin_helpers import REPO_ROOT

from nader import hookspecs
from nader.plugins import HOOK_NAMES, build_runtime

DOCS = (REPO_ROOT / "docs" / "plugins.md").read_text()
TESTS_DIR = REPO_ROOT / "tests" / "plugins"


def hook_sections() -> dict[str, str]:
    """``## register_*`` heading → the section's text up to the next ``## `` heading."""
    parts = re.split(r"^## ", DOCS, flags=re.MULTILINE)
    sections = {}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        if heading.startswith("register_"):
            sections[heading.strip()] = body
    return sections


def test_every_hook_has_a_docs_section_in_hook_order() -> None:
    assert list(hook_sections()) == list(HOOK_NAMES)


def hooks_implemented_in_tests() -> set[str]:
    """Hook names implemented by a test plugin: ``@hookimpl def register_x`` or ``register_x=``."""
    found: set[str] = set()
    for path in TESTS_DIR.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                "hookimpl" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                found.add(node.name)
            elif isinstance(node, ast.keyword) and node.arg is not None:
                found.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(re.findall(r"@hookimpl\s+def (register_\w+)", node.value))
    return found


def test_every_hook_is_implemented_by_a_test_plugin() -> None:
    missing = set(HOOK_NAMES) - hooks_implemented_in_tests()
    assert not missing, f"hooks no test exercises: {sorted(missing)}"


@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_hookspec_docstring_follows_the_template(hook_name: str) -> None:
    doc = getattr(hookspecs, hook_name).__doc__ or ""
    summary = doc.strip().splitlines()[0]
    assert summary.startswith("Register ") and summary.endswith(".")
    assert ":param register: the host's callback; call it once per " in doc
    assert "Register signature: ``register(" in doc
    assert "What is registered: " in doc
    assert f"Example::\n\n        @hookimpl\n        def {hook_name}(register):" in doc


@pytest.mark.parametrize("hook_name", HOOK_NAMES)
def test_the_docs_example_for_each_hook_registers_something(hook_name: str) -> None:
    body = hook_sections()[hook_name]
    assert "Register signature: `register(" in body
    blocks = re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)
    assert len(blocks) == 1, f"{hook_name}: expected one python example"
    module = types.ModuleType(f"docs_example_{hook_name}")
    code = compile(blocks[0], f"docs/plugins.md#{hook_name}", "exec")
    exec(code, module.__dict__)  # our own checked-in docs, never user or model text
    runtime = build_runtime(load_entry_points=False, extra_plugins=[("docs-example", module)])
    info = runtime.plugin("docs-example")
    assert info.errors == []
    kind = hook_name.removeprefix("register_")
    assert list(info.registered) == [kind] and info.registered[kind]
