"""The verifier: every error names block, node, line and code and says what was expected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from ir_helpers import cell, chain

from nader.errors import Diagnostic
from nader.ir import (
    BlockReport,
    Limits,
    OperatorRegistry,
    OperatorSpec,
    Probe,
    Role,
    ShapeProblem,
    TensorShape,
    check_text,
    default_registry,
    parse_block,
    parse_network,
    verify_block,
)
from nader.ir.builtin_ops import builtin_operator_specs
from nader.ir.check import check_network

REGISTRY = default_registry()


def verify(text: str, **options: Any) -> BlockReport:
    return verify_block(parse_block(text), REGISTRY, **options)


def errors(text: str, **options: Any) -> list[Diagnostic]:
    report = verify(text, **options)
    assert report.valid is (not report.errors)
    for error in report.errors:  # the contract every diagnostic keeps
        assert error.block == parse_block(text).name
        assert error.line is not None and error.line >= 1
        assert error.code and error.message
    return list(report.errors)


def only(text: str, **options: Any) -> Diagnostic:
    found = errors(text, **options)
    assert len(found) == 1, [str(e) for e in found]
    return found[0]


# ------------------------------------------------------------------------ structure errors


def test_valid_block_has_no_errors() -> None:
    report = verify(chain("Conv2d(out_channels=C,kernel_size=3)", "BN", "ReLU"))
    assert report.valid and report.errors == ()
    assert report.output_shape == (2, 64, 32, 32) and report.hash is not None


def test_undefined_operator_suggests_close_names() -> None:
    error = only(chain("Conv3d(out_channels=C,kernel_size=3)"))
    assert (error.code, error.node, error.line) == ("undefined-operator", 2, 4)
    assert "'Conv3d' is not an operator" in error.message and "did you mean Conv2d" in error.message


def test_cycle() -> None:
    found = errors(cell("2:Add", "3:BN", "0,3->2", "2->3", "3->1"))
    assert [e.code for e in found] == ["cycle"]
    assert "cycle through node(s) 2, 3 (2->3->2)" in found[0].message and found[0].node == 2
    self_loop = errors(cell("2:Add", "0,2->2", "2->1"))
    assert [e.code for e in self_loop] == ["cycle"] and "(2->2)" in self_loop[0].message


def test_unused_node() -> None:
    found = errors(cell("2:ReLU", "3:BN", "0->2", "2->1"))
    assert ("unused-node", 3, 5) in [(e.code, e.node, e.line) for e in found]
    assert any("has no edges" in e.message for e in found)


def test_dangling_branch() -> None:
    error = only(cell("2:ReLU", "3:BN", "0->2", "2->1", "2->3"))
    assert (error.code, error.node) == ("dangling-branch", 3)
    assert "never reaches the output" in error.message


def test_unreachable_node() -> None:
    found = errors(cell("2:ReLU", "3:BN", "4:Add", "0->4", "2->3", "3->4", "4->1"))
    assert ("unreachable", 3) in [(e.code, e.node) for e in found]


def test_several_or_no_outputs() -> None:
    several = errors("##A##\n0:input\n1:output\n2:output\n0->1\n0->2\n")
    assert [(e.code, e.node, e.line) for e in several] == [("multiple-outputs", 2, 4)]
    none = errors("##A##\n0:input\n2:ReLU\n0->2\n")
    assert [(e.code, e.node, e.line) for e in none] == [("no-output", None, 1)]
    assert "add a line N:output" in none[0].message


def test_missing_and_extra_inputs() -> None:
    missing = errors("##A##\n1:output\n2:ReLU\n2->1\n")
    assert "missing-input" in [e.code for e in missing]
    extra = errors(cell("2:input", "3:Add", "0,2->3", "3->1"))
    assert [(e.code, e.node) for e in extra] == [("extra-input", 2)]
    two = errors("##A##\n0:input1\n1:output\n2:ReLU\n0->2\n2->1\n")
    assert [e.code for e in two] == ["missing-input"] and "input2" in two[0].message
    mixed = errors("##A##\n0:input1\n2:input2\n3:input\n1:output\n4:Add\n0,2,3->4\n4->1\n")
    assert [(e.code, e.node) for e in mixed] == [("extra-input", 3)]


def test_edges_into_inputs_or_out_of_the_output() -> None:
    into = errors(cell("2:ReLU", "0->2", "2->0", "2->1"))
    assert "input-has-inputs" in [e.code for e in into] or "cycle" in [e.code for e in into]
    after = errors(cell("2:ReLU", "0->1", "1->2"))
    assert "output-has-consumers" in [e.code for e in after]


def test_edge_to_an_undefined_node() -> None:
    found = errors(cell("2:ReLU", "0->2", "2->7", "2->1"))
    assert [(e.code, e.node, e.line) for e in found] == [("undefined-node", 7, 6)]
    assert "edge 2->7 refers to undefined node(s) 7" in found[0].message


def test_duplicate_id() -> None:
    found = errors(cell("2:ReLU", "2:BN", "0->2", "2->1"))
    assert [(e.code, e.node, e.line) for e in found] == [("duplicate-node", 2, 5)]
    assert "lines 4 and 5" in found[0].message


@pytest.mark.parametrize(
    ("op", "inputs", "fragment"),
    [
        ("ReLU", "0,0", "ReLU takes exactly 1 input(s) but node 3 has 2"),
        ("Add", "0", "Add takes at least 2 input(s) but node 3 has 1"),
        ("multiply", "0,0,2", "multiply takes exactly 2 input(s) but node 3 has 3"),
    ],
)
def test_wrong_arity(op: str, inputs: str, fragment: str) -> None:
    text = cell("2:ReLU", f"3:{op}", "0->2", f"{inputs}->3", "3->1")
    found = errors(text)
    assert ("arity", 3) in [(e.code, e.node) for e in found]
    assert any(fragment in e.message for e in found)


def test_output_with_more_than_one_input() -> None:
    error = only(cell("2:ReLU", "0->2", "0->1", "2->1"))
    assert (error.code, error.node, error.line) == ("output-arity", 1, 3)
    assert "exactly one input but has 2" in error.message and "Add or concat" in error.message


# ------------------------------------------------------------------------ parameter errors


@pytest.mark.parametrize(
    ("op", "code", "fragment"),
    [
        ("Conv2d(kernel_size=3)", "missing-parameter", "Conv2d needs parameter 'out_channels'"),
        ("Conv2d(C,3,padding=1)", "unknown-parameter", "Conv2d has no parameter 'padding'"),
        ("Conv2d(C,3,1,1)", "invalid-parameter", "at most 3 positional arguments"),
        ("Conv2d(C,3,kernel_size=3)", "invalid-parameter", "'kernel_size' given twice"),
        (
            "Conv2d(out_channels=C,kernel_size=3,bias=2)",
            "invalid-parameter",
            "expected True or False",
        ),
        ("Conv2d(out_channels=C,kernel_size=1.5)", "invalid-parameter", "expected an integer size"),
        ("Conv2d(out_channels=(C,C),kernel_size=1)", "invalid-parameter", "got a tuple"),
        ("ReLU(1)", "unknown-parameter", "ReLU takes no parameters"),
        ("DropPath(drop_prob=1.5)", "invalid-parameter", "drop_prob must be in [0, 1)"),
        ("reshape", "missing-parameter", "reshape needs parameter 'dims'"),
    ],
)
def test_parameter_errors(op: str, code: str, fragment: str) -> None:
    error = only(chain(op))
    assert (error.code, error.node, error.line) == (code, 2, 4)
    assert fragment in error.message


@pytest.mark.parametrize(
    "op",
    [
        "Conv2d(out_channels=H,kernel_size=3)",
        "Conv2d(out_channels=C,kernel_size=W/8)",
        "AvgPool2d(kernel_size=H,stride=1)",
        "AdaptiveAvgPool2d(output_size=(H/2,W/2))",
        "Conv2d(out_channels=B*C,kernel_size=1)",
    ],
)
def test_layer_parameters_may_not_use_image_or_batch_sizes(op: str) -> None:
    error = only(chain(op))
    assert error.code == "spatial-parameter" and error.node == 2
    assert "may not depend on the batch or image size" in error.message


def test_unknown_symbols() -> None:
    error = only(chain("Conv2d(out_channels=dim,kernel_size=3)"))
    assert error.code == "unknown-symbol"
    assert "uses 'dim', which a cell does not have" in error.message and "write C" in error.message
    other = only(chain("Conv2d(out_channels=K,kernel_size=3)"))
    assert other.code == "unknown-symbol" and "unknown symbol(s) K" in other.message
    # dim is fine in a stem, a downsample block and a two-input cell
    assert verify(chain("Conv2d(out_channels=dim,kernel_size=3)"), role=Role.STEM).valid
    two = "##T##\n0:input1\n1:input2\n2:output\n3:Add\n4:Conv2d(out_channels=dim,kernel_size=1)\n0,1->3\n3->4\n4->2\n"
    assert verify(two).valid


@pytest.mark.parametrize(
    ("op", "fragment"),
    [
        ("Conv2d(out_channels=C-C,kernel_size=3)", "'out_channels' evaluates to 0"),
        ("Conv2d(out_channels=C,kernel_size=-1)", "'kernel_size' evaluates to -1"),
        ("Conv2d(out_channels=C,kernel_size=3,stride=0)", "'stride' evaluates to 0"),
        ("AvgPool2d(kernel_size=3,stride=-1)", "stride must be positive"),
        ("AdaptiveAvgPool2d(0)", "'output_size' evaluates to 0"),
        ("repeat(1,1,0,1)", "repeat counts must be positive"),
    ],
)
def test_sizes_must_be_positive_integers(op: str, fragment: str) -> None:
    found = errors(chain(op))
    assert found[0].code in ("non-positive-size", "repeat-invalid") and found[0].node == 2
    assert fragment in found[0].message


def test_expression_errors() -> None:
    error = only(chain("Conv2d(out_channels=C/(C-C),kernel_size=3)"))
    assert error.code == "expression-error" and "division by zero" in error.message


# ---------------------------------------------------------------------------- shape errors


def test_add_and_mul_shape_mismatch() -> None:
    for op in ("Add", "Mul"):
        text = cell("2:Conv2d(out_channels=C*2,kernel_size=1)", f"3:{op}", "0->2", "0,2->3", "3->1")
        error = only(text)
        assert (error.code, error.node) == ("shape-mismatch", 3)
        assert "(2, 64, 32, 32) and (2, 128, 32, 32)" in error.message


def test_broadcasting_is_allowed() -> None:
    text = cell("2:AdaptiveAvgPool2d(1)", "3:Mul", "0->2", "0,2->3", "3->1")
    assert verify(text).valid


def test_concat_shape_mismatch_and_channel_growth() -> None:
    bad = cell("2:AvgPool2d(kernel_size=2)", "3:concat(dim=1)", "0->2", "0,2->3", "3->1")
    error = only(bad)
    assert error.code == "shape-mismatch" and "concat along axis 1" in error.message
    grown = cell(
        "2:ReLU",
        "3:concat(dim=1)",
        "4:Conv2d(out_channels=C,kernel_size=1)",
        "0->2",
        "0,2->3",
        "3->4",
        "4->1",
    )
    report = verify(grown)
    assert report.valid and report.shapes[3].dims == (2, 128, 32, 32)


def test_multiply_is_a_matrix_product_in_edge_order() -> None:
    # x @ x^T is (B,C,H,H); (x @ x^T) @ x is (B,C,H,W) again, for every H and W
    ok = cell("2:permute(0,1,3,2)", "3:multiply", "4:multiply", "0->2", "0,2->3", "3,0->4", "4->1")
    assert verify(ok).valid
    # the other order, x @ (x @ x^T), needs W == H: valid for square data, with a note naming
    # node 4; a non-square probe says why it fails there
    swapped = ok.replace("3,0->4", "0,3->4")
    report = verify(swapped)
    assert report.valid and report.square_only == (4,) and "node 4" in report.notes[0]
    assert only(swapped, probe=Probe(2, 64, 32, 48, 64)).code == "shape-mismatch"
    bad = cell(
        "2:Conv2d(out_channels=C,kernel_size=1)",
        "3:reshape(B,C,H*W)",
        "4:multiply",
        "5:reshape(B,C,H,W)",
        "0->2",
        "2->3",
        "3,3->4",
        "4->5",
        "5->1",
    )
    found = errors(bad)
    assert (
        found[0].code == "shape-mismatch" and "multiply computes first @ second" in found[0].message
    )


def test_reshape_permute_repeat_errors() -> None:
    assert only(chain("reshape(B,C,H)")).code == "reshape-invalid"
    assert "must keep the number of elements" in only(chain("reshape(B,C,H)")).message
    assert only(chain("reshape(B,-1,-1)")).code == "reshape-invalid"
    assert only(chain("permute(0,1,2)")).code == "permute-invalid"
    assert only(chain("permute(0,1,2,2)")).code == "permute-invalid"
    assert only(chain("repeat(1,1,1)")).code == "repeat-invalid"
    assert only(chain("mean(dim=(1,1))")).code == "invalid-axis"
    assert only(chain("softmax(dim=4)")).code == "invalid-axis"
    # shape operators may use the input sizes
    assert verify(chain("reshape(B,C,H*W)", "reshape(B,C,H,W)")).valid
    assert verify(chain("reshape(B,-1)", "reshape(B,C,H,W)")).valid
    assert verify(chain("mean(dim=(2,3),keepdim=True)", "repeat(1,1,H,W)")).valid


def test_layer_norm_needs_channels_last() -> None:
    error = only(chain("LN"))
    assert (error.code, error.node) == ("ln-axis", 2)
    assert "permute(0,2,3,1) -> LN -> permute(0,3,1,2)" in error.message
    assert verify(chain("permute(0,2,3,1)", "LN", "permute(0,3,1,2)")).valid
    linear = only(chain("Linear(out_channels=C)"))
    assert linear.code == "spatial-channels"


def test_groups_must_divide_channels() -> None:
    text = chain("Conv2d(out_channels=C,kernel_size=3,groups=3)")
    error = only(text, probe=Probe())
    assert error.code == "groups-divisibility"
    assert "groups=3 must divide both input channels (64) and out_channels (64)" in error.message
    # with the default probe the channels are raised to a multiple of 64 that works
    report = verify(text)
    assert report.valid and report.probe.channels == 192
    assert report.notes and "raised to 192" in report.notes[0]
    never = only(chain("Conv2d(out_channels=C,kernel_size=3,groups=C*2)"))
    assert never.code == "groups-divisibility"


def test_wrong_output_shape_for_each_role() -> None:
    wide = chain("Conv2d(out_channels=C*2,kernel_size=1)")
    error = only(wide)
    assert (error.code, error.node) == ("output-shape", 1)
    assert "a cell block must output (B, C, H, W)" in error.message
    assert "come from node 2 (Conv2d out_channels=2*C)" in error.message
    stem = only(chain("Conv2d(out_channels=C,kernel_size=3)"), role=Role.STEM)
    assert "a stem block must output (B, dim, H/s, W/s) with dim = 64" in stem.message
    down = only(chain("Conv2d(out_channels=dim,kernel_size=3)"), role=Role.DOWNSAMPLE)
    assert "(B, dim, H/2, W/2) = (2, 128, 16, 16)" in down.message


# ------------------------------------------------------------------------ shape inference


def test_cell_probe_and_shapes_per_node() -> None:
    report = verify(
        cell(
            "2:Conv2d(out_channels=C/4,kernel_size=1)",
            "3:Conv2d(out_channels=C,kernel_size=1)",
            "0->2",
            "2->3",
            "3->1",
        )
    )
    assert report.input_shape == (2, 64, 32, 32) and report.output_shape == (2, 64, 32, 32)
    assert report.shapes[2].dims == (2, 16, 32, 32)
    assert report.probe == Probe(2, 64, 32, 32, 64)


def test_stem_accepts_any_integer_reduction_and_reports_it() -> None:
    for stride, scale in ((1, 1), (2, 2), (4, 4)):
        text = chain(f"Conv2d(out_channels=dim,kernel_size=3,stride={stride})", name="X_stem")
        report = verify(text)
        assert report.role is Role.STEM and report.valid and report.stem_scale == scale
        assert report.input_shape == (2, 3, 32, 32) and report.output_shape == (
            2,
            64,
            32 // scale,
            32 // scale,
        )
    text = chain("Conv2d(out_channels=dim,kernel_size=3,stride=2)", name="X_stem")
    assert verify(text, stem_scale=2).valid
    error = only(text, stem_scale=4)
    assert "stem scale 4" in error.message and "it reduces by 2" in error.message
    uneven = chain("Conv2d(out_channels=dim,kernel_size=3,stride=3)", name="X_stem")
    assert "one integer reduction" in only(uneven).message


def test_downsample_halves_with_ceiling() -> None:
    text = chain("Conv2d(out_channels=dim,kernel_size=3,stride=2)", name="D_downsample")
    report = verify(text)
    assert report.valid and report.output_shape == (2, 128, 16, 16)
    odd = verify(text, probe=Probe(2, 64, 33, 15, 96))
    assert odd.valid and odd.output_shape == (2, 96, 17, 8)


def test_two_input_blocks_take_dim_channels() -> None:
    text = "##T##\n0:input1\n1:input2\n2:output\n3:concat(dim=1)\n4:Conv2d(out_channels=dim,kernel_size=1)\n0,1->3\n3->4\n4->2\n"
    report = verify(text)
    assert report.valid and report.input_shape == (2, 64, 32, 32)
    assert report.shapes[3].dims == (2, 128, 32, 32) and report.output_shape == (2, 64, 32, 32)
    probe = Probe(batch=4, channels=7, height=16, width=8, dim=24)
    explicit = verify(text, probe=probe)
    assert (
        explicit.valid
        and explicit.input_shape == (4, 24, 16, 8)
        and explicit.output_shape == (4, 24, 16, 8)
    )


def test_probes_are_configurable_through_check_network() -> None:
    network = parse_network(
        chain("Conv2d(out_channels=dim,kernel_size=1,stride=2)", name="X_downsample")
    )
    (report,) = check_network(network, REGISTRY, input_shape=(4, 16, 8, 8), dim=40)
    assert report.valid and report.output_shape == (4, 40, 4, 4) and report.probe.dim == 40
    (default,) = check_network(network, REGISTRY, input_shape=(4, 16, 8, 8))
    assert default.probe.dim == 32  # a downsample block doubles C unless told otherwise


def test_alternate_probe_catches_size_specific_blocks() -> None:
    fixed = chain("reshape(B,C,1024)", "reshape(B,C,32,32)")
    error = only(fixed)
    assert error.code == "reshape-invalid" and "another size the block must handle" in error.message
    square = cell("2:multiply", "0,0->2", "2->1")  # x @ x works only for H == W
    assert verify(square).valid and verify(square).square_only == (2,)
    assert only(square, probe=Probe(2, 64, 32, 48, 64)).code == "shape-mismatch"


def test_downsample_that_writes_c_times_two_is_told_to_write_dim() -> None:
    text = chain(
        "Conv2d(out_channels=C,kernel_size=3,stride=2)",
        "BN",
        "Conv2d(out_channels=C*2,kernel_size=1)",
        "BN",
        name="Mobile_downsample",
    )
    error = only(text)
    assert error.code == "output-shape" and error.node == 1
    assert "another size the block must handle" in error.message
    assert (
        "come from node 4 (Conv2d out_channels=2*C), but they must follow dim, so write dim there"
        in error.message
    )


# -------------------------------------------------------------------------- resource bounds


def test_resource_limits() -> None:
    many = chain(*(["ReLU"] * 20))
    assert only(many, limits=Limits(max_nodes=10)).code == "resource-limit"
    wide = only(
        chain("Conv2d(out_channels=C*2048,kernel_size=1)", "Conv2d(out_channels=C,kernel_size=1)")
    )
    assert wide.code == "resource-limit" and "limited to 65,536" in wide.message
    huge_kernel = only(chain("Conv2d(out_channels=C,kernel_size=999999999)"))
    assert huge_kernel.code == "resource-limit"
    tiled = only(chain("repeat(1,1,4096,4096)", "mean(dim=(2,3),keepdim=True)", "repeat(1,1,H,W)"))
    assert tiled.code == "resource-limit" and "elements" in tiled.message
    params = only(chain("Conv2d(out_channels=C,kernel_size=3)"), limits=Limits(max_params=1000))
    assert params.code == "resource-limit" and "parameters" in params.message
    rank = only(chain("reshape(1,1,1,1,1,1,1,1,B*C*H*W)", "reshape(B,C,H,W)"))
    assert rank.code == "resource-limit"


def test_block_with_too_many_edges() -> None:
    lines = ["2:Add"] + ["0,0,0,0,0,0,0,0,0,0->2"] * 600 + ["2->1"]
    assert only(cell(*lines)).code == "resource-limit"


# --------------------------------------------------------------------- plugins and no-raise


class _Boom(Exception):
    pass


def _crashing_rule(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    raise _Boom("bad plugin")


def _gate_rule(inputs: list[TensorShape], params: Mapping[str, Any]) -> TensorShape:
    if inputs[0].dims != inputs[1].dims:
        raise ShapeProblem("shape-mismatch", "Gate needs equal shapes")
    return inputs[0]


def plugin_registry() -> OperatorRegistry:
    registry = OperatorRegistry()
    for spec in builtin_operator_specs():
        registry.register(spec)
    registry.register(OperatorSpec("Crash", _crashing_rule), plugin="acme")
    registry.register(
        OperatorSpec("Gate", _gate_rule, min_inputs=2, max_inputs=2, commutative=True),
        plugin="acme",
    )
    return registry


def test_a_crashing_plugin_operator_becomes_a_diagnostic() -> None:
    report = verify_block(parse_block(chain("Crash")), plugin_registry())
    (error,) = report.errors
    assert error.code == "plugin-error" and error.node == 2
    assert error.message == "Crash (from plugin 'acme'): its shape rule raised _Boom: bad plugin"


def test_plugin_operators_get_checking_and_hashing_for_free() -> None:
    registry = plugin_registry()
    ab = cell("2:ReLU", "3:Gate", "0->2", "0,2->3", "3->1")
    ba = cell("2:ReLU", "3:Gate", "0->2", "2,0->3", "3->1")
    first, second = (verify_block(parse_block(t), registry) for t in (ab, ba))
    assert first.valid and first.hash == second.hash
    bad = cell("2:AvgPool2d(kernel_size=2)", "3:Gate", "0->2", "0,2->3", "3->1")
    assert [e.code for e in verify_block(parse_block(bad), registry).errors] == ["shape-mismatch"]


@pytest.mark.parametrize(
    "text",
    [
        "##A##\n",
        "##A##\n0:output\n",
        "##A##\n0:input\n0->0\n",
        "##A##\n5:Add\n5,5->5\n",
        "##A##\n0:input1\n1:input1\n2:input2\n3:output\n0,1,2->3\n",
        "##A##\n0:input\n1:output\n2:concat(dim=-9)\n0,0->2\n2->1\n",
        "##A##\n0:input\n1:output\n2:mean(dim=(0,1,2,3))\n3:LN\n4:softmax\n5:permute(0)\n0->2\n2->3\n3->4\n4->5\n5->1\n",
        "##A##\n0:input\n1:output\n2:reshape(0)\n3:Linear(1)\n0->2\n2->3\n3->1\n",
        "##A##\n0:input\n1:output\n2:AdaptiveAvgPool2d((1,2,3))\n0->2\n2->1\n",
    ],
)
def test_broken_blocks_give_reports_not_exceptions(text: str) -> None:
    for role in Role:
        report = verify(text, role=role)
        assert not report.valid
    assert not check_text(text, REGISTRY).valid
