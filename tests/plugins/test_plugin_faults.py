"""Plugins that end the process at import, or lower an operator to the wrong shape (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import Installer, make_plugin, operator

from nader.cli.main import main
from nader.errors import BackendError
from nader.plugins import build_runtime

INVALID_BLOCK = "##Cell##\n0:input\n1:output\n2:NoSuchOp\n0->2\n2->1\n"


@pytest.mark.parametrize("raised", ["SystemExit(0)", "KeyboardInterrupt()"])
def test_a_plugin_that_exits_at_import_is_skipped_and_named(
    raised: str,
    install_dist: Installer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 15 ("Plugins"): sys.exit(0) at import made every command exit 0 silently (even
    ``nader check`` of an invalid file); KeyboardInterrupt gave a traceback."""
    install_dist(
        "nader-quitter",
        modules_source={"quitter_plugin": f"raise {raised}\n"},
        entry_points={"quitter": "quitter_plugin"},
    )
    runtime = build_runtime()
    [error] = runtime.plugin("nader-quitter").errors
    assert error.startswith("cannot load entry point 'quitter_plugin': ")
    assert raised.split("(")[0] in error
    block = tmp_path / "invalid.txt"
    block.write_text(INVALID_BLOCK)
    assert main(["check", str(block)]) == 1
    captured = capsys.readouterr()
    assert "nader-quitter" in captured.err and "NoSuchOp" in captured.out + captured.err


def test_a_lowering_that_contradicts_its_shape_rule_is_an_error_naming_operator_and_plugin() -> (
    None
):
    """Issue 15 ("Plugins"): the shape rule keeps the channels, the lowering doubles them;
    ``nader compile`` died later in fvcore with a raw torch error naming neither."""
    torch = pytest.importorskip("torch")
    from nader.backends.fx_build import build_network
    from nader.backends.plan import NetworkPlanner
    from nader.backends.presets import dataset_preset
    from nader.backends.skeletons import skeleton_named
    from nader.ir import parse_network

    def doubling(ctx: Any) -> Any:
        channels = ctx.input_shapes[0][1]
        return torch.nn.Conv2d(channels, 2 * channels, 1)

    def register_operators(register: Any) -> None:
        register(operator("Twice"), lowering=doubling)

    plugin = make_plugin(register_operators=register_operators)
    runtime = build_runtime(load_entry_points=False, extra_plugins=[("nader-twice", plugin)])
    cell = "##Cell##\n0:input\n1:output\n2:Twice\n3:BN\n0->2\n2->3\n3->1\n"
    stem = (
        "##Cell_stem##\n0:input\n1:output\n2:Conv2d(out_channels=dim,kernel_size=3)\n0->2\n2->1\n"
    )
    down = stem.replace("_stem", "_downsample").replace("kernel_size=3", "kernel_size=3,stride=2")
    network = parse_network(cell + stem + down)
    skeleton = skeleton_named("nader").with_depths((1, 1, 1))
    planner = NetworkPlanner(network, runtime.operators, skeleton, dataset_preset("cifar10"))
    with pytest.raises(BackendError) as caught:
        build_network(planner.plan(8), runtime.lowerings)
    message = str(caught.value)
    assert "'Twice'" in message and "'nader-twice'" in message, message
    assert "shape rule" in message and "(1, 16, 32, 32)" in message, message


CHECKED_PLUGIN = """
import torch
from nader import hookimpl
from nader.ir import OperatorSpec


def same(inputs, params):
    return inputs[0]


def wider(inputs, params):
    shape = inputs[0]
    return type(shape)((shape.dims[0], shape.dims[1] * 2, *shape.dims[2:]), shape.spatial)


def doubling(ctx):
    channels = ctx.input_shapes[0][1]
    return torch.nn.Conv2d(channels, 2 * channels, 1)


class Mean2(torch.nn.Module):
    def forward(self, a, b):
        return (a + b) / 2


@hookimpl
def register_operators(register):
    register(OperatorSpec("Twice", same, summary="says same shape, lowers to 2x channels"),
             lowering=doubling)
    register(OperatorSpec("Avg2", same, min_inputs=2, max_inputs=2, commutative=True,
                          summary="mean of two maps"), lowering=lambda ctx: Mean2())
    register(OperatorSpec("Widen", wider, summary="2x channels"), lowering=doubling)
    register(OperatorSpec("NoLowering", same, summary="registered without a lowering"))
"""


def test_plugins_check_probes_every_plugin_lowering_against_its_shape_rule(
    install_dist: Installer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 item 7: the lowering is checked against the shape rule when first used *or at
    ``nader plugins --check``*, before any network uses the operator."""
    pytest.importorskip("torch")
    install_dist(
        "nader-checked",
        modules_source={"checked_plugin": CHECKED_PLUGIN},
        entry_points={"checked": "checked_plugin"},
    )
    assert main(["plugins", "--check"]) == 1  # one lowering contradicts its shape rule
    lines = {
        line.strip().split(" ")[0]: line.strip()
        for line in capsys.readouterr().out.splitlines()
        if "(plugin nader-checked)" in line
    }
    assert set(lines) == {"Twice", "Avg2", "Widen"}  # NoLowering has nothing to check
    assert "mismatch" in lines["Twice"] and "shape rule" in lines["Twice"], lines["Twice"]
    assert "(1, 16, 32, 32)" in lines["Twice"], lines["Twice"]
    assert lines["Avg2"].startswith("Avg2 (plugin nader-checked): ok"), lines["Avg2"]
    assert "not probed" in lines["Widen"] and "does not fit in a cell" in lines["Widen"]
    assert "raised" not in lines["Widen"], lines["Widen"]  # its shape rule works: 2C != C
    assert main(["plugins", "--check", "--json"]) == 1
    checks = json.loads(capsys.readouterr().out)["lowering_checks"]
    checked = {c["operator"]: c["status"] for c in checks if c["plugin"] == "nader-checked"}
    assert checked == {"Twice": "mismatch", "Avg2": "ok", "Widen": "not probed"}
    assert main(["plugins"]) == 0  # without --check nothing is built: loading was clean
