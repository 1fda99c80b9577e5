"""Hand-written reference networks, written the way people write PyTorch (no nader involved).

- :class:`TinyNetwork`: NAS-Bench-201's CIFAR network for an arch string (stem, 3 stages of 5
  cells, ResNet reduction blocks, BN + ReLU + pool + Linear head), structured like its published
  code: ``ReLUConvBN``, ``Pooling`` (``count_include_pad=False``), ``Identity``, ``Zero``.
- :class:`ResNetBasicNetwork`: the network ``nader compile`` builds from
  ``nas-bench-201/resnet_basic.txt`` on the ``nader`` skeleton, for the parity test and benchmark,
  with :func:`resnet_state_dict_mapping` naming each of its weights in nader's module.
"""

from __future__ import annotations

import torch
from torch import nn

# ------------------------------------------------------------------------------ NAS-Bench-201


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def nb201_operation(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    kernel = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}[name]
    return ReLUConvBN(channels, channels, kernel, 1)


class InferCell(nn.Module):
    def __init__(self, arch: str, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList()
        self.wiring: list[list[int]] = []
        for node in arch.split("+"):
            sources = []
            for edge in node.strip("|").split("|"):
                name, source = edge.split("~")
                self.edges.append(nb201_operation(name, channels))
                sources.append(int(source))
            self.wiring.append(sources)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        edge = 0
        for sources in self.wiring:
            total = None
            for source in sources:
                term = self.edges[edge](nodes[source])
                total = term if total is None else total + term
                edge += 1
            nodes.append(total)  # type: ignore[arg-type]
        return nodes[-1]


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction: ReLUConvBN(s2) -> ReLUConvBN, shortcut AvgPool -> 1x1 conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    def __init__(self, arch: str, channels: int = 16, cells: int = 5, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage:
                layers.append(ResNetBasicBlock(c, 2 * c))
                c *= 2
            layers.extend(InferCell(arch, c) for _ in range(cells))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.pool(out).flatten(1))


# --------------------------------------------------------------------- resnet_basic.txt, by hand


class BasicCell(nn.Module):
    """conv-BN-ReLU-conv-BN, plus the input, then ReLU (the cell of resnet_basic.txt)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class Reduction(nn.Module):
    """conv(s2)-BN-ReLU-conv-BN plus AvgPool -> 1x1 conv, then ReLU (the downsample block)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pool = nn.AvgPool2d(2, 2)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(self.pool(x)))


class ResNetBasicNetwork(nn.Module):
    def __init__(self, width: int, classes: int, depths: tuple[int, ...] = (5, 5, 5)) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()
        )
        self.stages = nn.ModuleList()
        self.reductions = nn.ModuleList()
        c = width
        for stage, depth in enumerate(depths):
            if stage:
                self.reductions.append(Reduction(c, 2 * c))
                c *= 2
            self.stages.append(nn.Sequential(*(BasicCell(c) for _ in range(depth))))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.stem(x)
        for stage, cells in enumerate(self.stages):
            if stage:
                out = self.reductions[stage - 1](out)
            out = cells(out)
        return self.fc(self.pool(out).flatten(1))


def resnet_state_dict_mapping(depths: tuple[int, ...] = (5, 5, 5)) -> dict[str, str]:
    """Prefix in :class:`ResNetBasicNetwork` -> prefix in nader's compiled module.

    Node ids come from resnet_basic.txt: cell 2:Conv 3:BN 5:Conv 6:BN; stem 2:Conv 3:BN;
    downsample 2:Conv 3:BN 5:Conv 6:BN 9:Conv (the shortcut).
    """
    mapping = {"stem.0": "stem.conv2d_2", "stem.1": "stem.bn_3", "fc": "head.linear_4"}
    cell = {"conv1": "conv2d_2", "bn1": "bn_3", "conv2": "conv2d_5", "bn2": "bn_6"}
    reduction = {**cell, "shortcut": "conv2d_9"}
    for stage, depth in enumerate(depths):
        for index in range(depth):
            for mine, theirs in cell.items():
                mapping[f"stages.{stage}.{index}.{mine}"] = (
                    f"stage{stage + 1}_cell{index + 1}.{theirs}"
                )
        if stage:
            for mine, theirs in reduction.items():
                mapping[f"reductions.{stage - 1}.{mine}"] = f"down{stage}.{theirs}"
    return mapping


def load_into_reference(reference: nn.Module, compiled: nn.Module, mapping: dict[str, str]) -> None:
    """Copy every weight and buffer of ``compiled`` into ``reference`` through ``mapping``;
    fails if any entry on either side is left over."""
    theirs = compiled.state_dict()
    state = {}
    used = set()
    for key in reference.state_dict():
        prefix, _, leaf = key.rpartition(".")
        source = f"{mapping[prefix]}.{leaf}"
        state[key] = theirs[source]
        used.add(source)
    assert used == set(theirs), sorted(set(theirs) - used)
    reference.load_state_dict(state)
