"""Which install extra provides a missing module: one line instead of a traceback.

``pip install nader`` is the IR, ``nader check/hash/config`` and the plugin system; the rest
comes with extras (pyproject.toml). A command that reaches a module of a missing extra ends
with ``nader: compile needs the 'training' extra (torch is not installed): pip install
'nader[training]'`` and exit status 2.
"""

from __future__ import annotations

#: top-level module → the extra that installs it
MODULE_EXTRAS: dict[str, str] = {
    "torch": "training",
    "fvcore": "training",
    "numpy": "training",
    "sklearn": "training",
    "tensorboard": "training",
    "anthropic": "agents",
    "openai": "agents",
    "qdrant_client": "agents",
    "grandalf": "report",
    "ray": "ray",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "pypdf": "pdf",
    "mlflow": "mlflow",
}


def missing_extra(err: ModuleNotFoundError, command: str | None) -> str | None:
    """The one-line message for ``err``, or None when the module is not one of an extra's."""
    top = (err.name or "").split(".")[0]
    extra = MODULE_EXTRAS.get(top)
    if extra is None:
        return None
    what = command or "this command"
    return (
        f"{what} needs the '{extra}' extra ({top} is not installed): pip install 'nader[{extra}]'"
    )
