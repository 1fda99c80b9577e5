"""The run's starting point: the base network, read and verified before anything is designed."""

from __future__ import annotations

from dataclasses import dataclass

from nader.backends.nb201 import arch_to_network_text
from nader.errors import ConfigError
from nader.ir.check import FileReport, check_text
from nader.ir.graph import Network
from nader.ir.registry import OperatorRegistry
from nader.session.config import BaseNetworkConfig
from nader.session.files import read_user_text


@dataclass(frozen=True)
class BaseNetwork:
    """The base as written (its text is stored), parsed and verified once."""

    text: str
    network: Network
    report: FileReport


def load_base(base: BaseNetworkConfig, registry: OperatorRegistry) -> BaseNetwork:
    """Read ``base.network`` (or build ``base.nb201_arch``) and verify every block.

    :raises ConfigError: the file cannot be read (not a bounded UTF-8 file), or a block is
        invalid (one line: the first problem, how many more, and how to see them all).
    """
    if base.network is not None:
        text = read_user_text(base.network, "base.network")
    else:
        assert base.nb201_arch is not None  # the config requires one of the two
        text = arch_to_network_text(base.nb201_arch)
    where = str(base.network) if base.network is not None else "base.nb201_arch"
    report = check_text(text, registry, source=where)
    if not report.valid or report.network is None:
        problems = [str(d) for b in report.blocks for d in b.errors]
        if report.syntax_error is not None:
            err = report.syntax_error
            problems = [f"line {err.line}, column {err.column}: {err.message}"]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = problems[0].splitlines()[0] if problems else "invalid"
        key = "base.network" if base.network is not None else "base.nb201_arch"
        see = f"; nader check {where} shows every problem" if base.network is not None else ""
        raise ConfigError(f"{key}: {where} is not a valid network: {first}{more}{see}")
    return BaseNetwork(text, report.network, report)
