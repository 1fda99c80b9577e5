"""Helpers shared by the backend tests and benchmarks: where the corpus is, and how to plan it."""

from __future__ import annotations

from pathlib import Path

from corpus_paths import blocks_dir

from nader.backends.plan import NetworkPlan, NetworkPlanner
from nader.backends.presets import dataset_preset
from nader.backends.skeletons import Skeleton, skeleton_named
from nader.errors import NaderError
from nader.ir import Network, OperatorRegistry, Role, parse_network
from nader.ir.check import check_network

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def corpus_files() -> list[Path]:
    """Every network file of the corpus (empty when the corpus is absent)."""
    folder = blocks_dir()
    return sorted(folder.glob("*/*.txt")) if folder.is_dir() else []


def corpus_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def load(path: Path) -> Network:
    return parse_network(path.read_text(encoding="utf-8"), str(path))


def stem_scale(network: Network, registry: OperatorRegistry) -> int | None:
    """The spatial reduction of the file's stem, as ``nader check`` reports it."""
    for report in check_network(network, registry):
        if report.role is Role.STEM:
            return report.stem_scale
    return None


def skeleton_for(network: Network, registry: OperatorRegistry) -> Skeleton:
    """DARTS files (two-input cells) on ``darts``, ImageNet-style stems (x4) on ``imagenet``,
    everything else on ``nader``."""
    cell = network.by_role(Role.CELL)
    if cell is not None and cell.is_two_input:
        return skeleton_named("darts")
    if stem_scale(network, registry) == 4:
        return skeleton_named("imagenet")
    return skeleton_named("nader")


def shallow(skeleton: Skeleton) -> Skeleton:
    """One cell per stage: every block kind still appears, at a fraction of the cost to run."""
    return skeleton.with_depths((1,) * len(skeleton.depths))


def small_plan(network: Network, registry: OperatorRegistry, *, width: int = 16) -> NetworkPlan:
    """A shallow plan on the file's natural skeleton, at ``width`` or the next valid width."""
    skeleton = shallow(skeleton_for(network, registry))
    dataset = dataset_preset("imagenet" if skeleton.name == "imagenet" else "cifar10")
    planner = NetworkPlanner(network, registry, skeleton, dataset)
    for candidate in range(width, 1025):
        try:
            return planner.plan(candidate, exact_divisions=True)
        except NaderError:
            continue
    raise AssertionError(f"no valid width for {network.source}")
