"""Checks of a session config against this machine and this runtime, made before any work.

Pydantic checks each value's type and range where the config is read; what it cannot know is
whether a name is registered (skeleton, executor, dataset, provider, policy, embedder), whether a
device or start method exists, or whether an optional dependency is installed. Before, such a
value was found out after the run directory was made and the base stored, or never: a
``train.device`` nobody has failed every candidate and the run still "succeeded". Every problem is
reported at once, each naming its key.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import re

from nader.backends.skeletons import SKELETONS
from nader.errors import ConfigError
from nader.plugins.registries import NamedRegistry, Runtime
from nader.session.config import SessionConfig

#: torch device strings a training worker accepts ("auto" is nader's: CUDA when available)
_DEVICE = re.compile(r"^(auto|cpu|meta|mps|cuda|xpu|hip)(:\d+)?$")


def validate_session(config: SessionConfig, runtime: Runtime) -> None:
    """Every value of ``config`` that names something must name something that exists.

    :raises ConfigError: one line naming each wrong key, its value and what is accepted.
    """
    problems: list[str] = []
    device = config.train.device
    if not _DEVICE.match(device) or (device.startswith(("auto", "meta")) and ":" in device):
        problems.append(
            f"train.device: {device!r} is not a device (auto, cpu, cuda, cuda:N, mps, xpu)"
        )
    methods = multiprocessing.get_all_start_methods()
    if config.executor.start_method not in methods:
        problems.append(
            f"executor.start_method: {config.executor.start_method!r} is not one of "
            f"{', '.join(methods)}"
        )
    if config.base.skeleton.lower() not in SKELETONS:
        problems.append(
            f"base.skeleton: {config.base.skeleton!r} is not one of {', '.join(SKELETONS)}"
        )
    named = (
        ("executor.name", config.executor.name, runtime.executors),
        ("dataset.name", config.dataset.name, runtime.datasets),
        ("llm.provider", config.llm.provider, runtime.llm_providers),
        ("agents.policy", config.agents.policy, runtime.search_policies),
        ("agents.embedder", config.agents.embedder, runtime.embedders),
    )
    problems += [_unknown(key, value, registry) for key, value, registry in named]
    if config.executor.name == "ray" and importlib.util.find_spec("ray") is None:
        problems.append("executor.name: 'ray' needs Ray: pip install 'nader[ray]'")
    problems = [p for p in problems if p]
    if problems:
        raise ConfigError("; ".join(problems))


def _unknown(key: str, value: str, registry: NamedRegistry) -> str:
    if value in registry:
        return ""
    known = ", ".join(sorted(registry.names())) or "none"
    return f"{key}: no {registry.kind} named {value!r} is installed (available: {known})"
