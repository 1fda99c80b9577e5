"""Built-in plugin: the ``local`` and ``ray`` executors.

An executor factory is called as ``factory(config, target, scratch)``: the ``[executor]`` config,
the job function (a Python callable chosen by the host) and a scratch directory in the run dir.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nader.hookspecs import hookimpl
from nader.session.executors import LocalExecutor, RayExecutor


@hookimpl
def register_executors(register: Callable[..., Any]) -> None:
    register("local", LocalExecutor)
    register("ray", RayExecutor)
