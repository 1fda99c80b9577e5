"""The run's starting point: the base network, read and verified before anything is designed."""

from __future__ import annotations

from dataclasses import dataclass

from nader.backends.nb201 import arch_to_network_text
from nader.errors import ConfigError
from nader.ir.check import FileReport, check_text
from nader.ir.graph import Network
from nader.ir.registry import OperatorRegistry
from nader.session.config import BaseNetworkConfig


@dataclass(frozen=True)
class BaseNetwork:
    """The base as written (its text is stored), parsed and verified once."""

    text: str
    network: Network
    report: FileReport


def load_base(base: BaseNetworkConfig, registry: OperatorRegistry) -> BaseNetwork:
    """Read ``base.network`` (or build ``base.nb201_arch``) and verify every block.

    :raises ConfigError: the file cannot be read, or a block is invalid (every problem listed).
    """
    if base.network is not None:
        try:
            text = base.network.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(
                f"base.network: cannot read {base.network}: {err.strerror or err}"
            ) from err
    else:
        assert base.nb201_arch is not None  # the config requires one of the two
        text = arch_to_network_text(base.nb201_arch)
    report = check_text(text, registry, source="base network")
    if not report.valid or report.network is None:
        problems = "\n".join(f"  {d}" for b in report.blocks for d in b.errors)
        if report.syntax_error is not None:
            problems = f"  {report.syntax_error}"
        raise ConfigError(f"the base network is invalid:\n{problems}")
    return BaseNetwork(text, report.network, report)
