"""The config reference is generated from the models and checked: ``docs/config.md`` is not
stale, ``nader config schema`` is a JSON Schema that accepts the shipped configs and refuses a
misspelt key, and a misspelt key is answered with the closest known one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomllib

from nader.cli.config import config_reference, config_schema
from nader.cli.main import main
from nader.errors import ConfigError
from nader.session.config import SessionConfig, load_config

REPO = Path(__file__).resolve().parents[2]


def test_docs_config_md_is_up_to_date() -> None:
    checked_in = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    assert checked_in == config_reference(), (
        "docs/config.md is stale: run `nader config docs --out docs/config.md`"
    )


def test_the_reference_has_every_table_and_key() -> None:
    text = config_reference()
    for table, info in SessionConfig.model_fields.items():
        assert f"## `[{table}]`" in text
        model = info.annotation
        assert model is not None
        for key in model.model_fields:  # type: ignore[union-attr]
            assert f"| `{key}` |" in text, f"[{table}] {key} missing"
    # a key's #: comment becomes its description
    assert "| `max_architectures` | integer | `10` | stop proposing once this many" in text


def test_schema_from_the_cli_validates_the_example_configs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads(json.dumps(config_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in (REPO / "examples").glob("*.toml"):
        jsonschema.validate(tomllib.loads(path.read_text()), schema)
    bad = tomllib.loads((REPO / "examples" / "quickstart.toml").read_text())
    bad["train"]["epoch"] = 3
    with pytest.raises(jsonschema.ValidationError, match="epoch"):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epoch=3", "train.epoch: unknown key (did you mean 'epochs'?)"),
        ("trackng.trackers=[]", "trackng: unknown key (did you mean 'tracking'?)"),
        ("llm.modle=x", "llm.modle: unknown key (did you mean 'model'?)"),
        ("run.zzzz=1", "run.zzzz: unknown key\n"),
    ],
)
def test_an_unknown_key_suggests_the_closest(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(REPO / "examples" / "quickstart.toml", [override])
    assert message in str(caught.value) + "\n"
