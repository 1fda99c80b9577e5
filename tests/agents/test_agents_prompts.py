"""Prompt templates: shipped files, strict rendering, and the registry-generated format."""

from __future__ import annotations

import pytest

from nader.agents import tasks
from nader.agents.prompts import (
    PromptBook,
    block_format_definition,
    load_template,
    render,
    template_fields,
)
from nader.errors import ConfigError
from nader.ir.ops import OperatorSpec


def test_every_task_has_a_template_whose_fields_render():
    for task, name in tasks.TEMPLATE_OF_TASK.items():
        text = load_template(name)
        fields = template_fields(text)
        rendered = render(name, {field: f"<{field}>" for field in fields})
        assert "$" not in rendered, task
        for field in fields:
            assert f"<{field}>" in rendered


def test_render_demands_exactly_the_templates_fields():
    with pytest.raises(ConfigError, match="missing fields abstract"):
        render("paper_relevance", {"title": "t"})
    with pytest.raises(ConfigError, match="unexpected fields extra"):
        render("paper_relevance", {"title": "t", "abstract": "a", "extra": "x"})
    with pytest.raises(ConfigError, match="must be text"):
        render("paper_relevance", {"title": "t", "abstract": 3})  # type: ignore[dict-item]


def test_values_are_inserted_verbatim_never_interpreted():
    hostile = "${title} {__class__} $abstract __import__('os')"
    rendered = render("paper_relevance", {"title": hostile, "abstract": "plain"})
    assert hostile in rendered
    assert "plain" in rendered


def test_format_definition_describes_every_operator_with_defaults(registry):
    text = block_format_definition(registry)
    assert "Conv2d(out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True)" in text
    assert "Add [2+ inputs]" in text
    assert "permute(*dims)" in text
    for spec in registry:
        if spec.name not in ("input", "input1", "input2", "output"):
            assert f"- {spec.name}" in text, spec.name


def test_plugin_operators_appear_in_the_format(registry):
    registry.register(
        OperatorSpec(
            "HardSwish",
            lambda inputs, params: inputs[0],
            summary="hard swish activation",
            example="HardSwish",
        ),
        plugin="my-plugin",
    )
    book = PromptBook(registry)
    assert "- HardSwish: hard swish activation" in book.block_format


def test_modifier_system_prompt_is_the_cached_static_prefix(registry):
    book = PromptBook(registry)
    system = book.system(tasks.MODIFIER)
    assert system.cache is True
    assert system.role == "system"
    assert book.block_format in system.content
    # the same text every time, so a provider's prompt cache can reuse it
    assert book.system(tasks.MODIFIER) == system
    # compact: the whole format definition fits in about a thousand tokens
    assert len(book.block_format) / 4 < 1100


def test_user_messages_come_from_the_templates(registry):
    book = PromptBook(registry)
    message = book.user(
        "error_fix", stage="cell", errors="[undefined-operator] node 5: 'ROIAlign' ..."
    )
    assert message.role == "user" and not message.cache
    assert "ROIAlign" in message.content
