"""What a caller asks a dataset factory for: where the files are, which split, which seed.

Every registered dataset factory takes one :class:`DatasetRequest` (the hook's ``config``) and
returns a :class:`nader.data.base.DatasetSplits`. The model is narrow and forbids unknown keys so a
typo in a run config is an error, not a silently ignored setting.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class DatasetRequest(BaseModel):
    """Where a dataset's files live and how to split them.

    :param data_dir: folder holding the dataset's standard files (ignored by the embedded
        ``digits`` and ``synthetic`` datasets).
    :param split_file: a NAS-Bench-201 split file; without one a seeded default split is used.
    :param seed: seed of the default split (and of the synthetic data); a split file ignores it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path | None = None
    split_file: Path | None = None
    seed: int = Field(default=0, ge=0)
