"""The ``[agents]`` configuration: what the team does, and the paper's ablation switches.

Every switch of the paper's ablation study is a field here, so an ablation is a one-line
config change (``--set agents.immediate_feedback=false``) rather than a code change. Unknown
keys are errors (``extra="forbid"``): a misspelt switch must not silently leave an ablation on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AgentsConfig(BaseModel):
    """Settings of the Reader, Proposer, Modifier and Reflector."""

    model_config = ConfigDict(extra="forbid")

    # -- ablation switches (all on = the full NADER system)
    reader: bool = Field(
        default=True,
        description="Fill the knowledge pool from papers / inspiration files; off = a fixed list "
        "of expert suggestions (the paper's 'w/o Reader').",
    )
    proposer_llm: bool = Field(
        default=True,
        description="Let the LLM rank retrieved inspirations; off = a random unused inspiration.",
    )
    immediate_feedback: bool = Field(
        default=True,
        description="Send verifier errors back to the Modifier for another try; off = one answer.",
    )
    design_experience: bool = Field(
        default=True,
        description="Turn design records into tips and show the most similar ones to the Modifier.",
    )

    # -- the dialogue
    max_try: int = Field(default=5, ge=1, le=20, description="Modifier turns per block stage.")
    tips_per_prompt: int = Field(default=5, ge=0, le=20)
    fallback_to_parent_blocks: bool = Field(
        default=True,
        description="When the new stem/downsample never verify, keep the parent's (noted in the "
        "outcome) instead of discarding a valid cell.",
    )

    # -- pre-screening by zero-cost proxy
    prescreen_k: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Cells the Modifier designs per proposal (k dialogues); with k > 1 only the "
        "best by `prescreen_proxy`, scored on the untrained network in the parent's stem and "
        "downsample, goes on to its stem/downsample and to training; the others are kept in the "
        "architecture's record. 1 = off.",
    )
    prescreen_proxy: Literal["naswot", "synflow"] = Field(
        default="naswot",
        description="The zero-cost proxy of the pre-screen (higher is better).",
    )

    # -- the Proposer
    policy: str = "nader"
    policy_options: dict[str, Any] = Field(default_factory=dict)
    retrieve_k: int = Field(
        default=30, ge=1, description="Inspirations retrieved by embedding per proposal."
    )
    rank_k: int = Field(default=8, ge=1, description="Of those, how many the LLM is asked to rank.")

    # -- memory
    embedder: str = "hashing"
    embedder_options: dict[str, Any] = Field(default_factory=dict)
    memory_path: Path | None = Field(
        default=None, description="Embedded Qdrant folder for the pools; default RUN_DIR/memory."
    )
    knowledge_path: Path | None = Field(
        default=None,
        description="A shared embedded Qdrant folder for the knowledge pool (reused across runs); "
        "default: the memory_path.",
    )
    qdrant_url: str | None = Field(
        default=None, description="Use a Qdrant server instead of embedded."
    )

    # -- knowledge sources
    papers_dir: Path | None = Field(default=None, description="Folder of papers for the Reader.")
    inspiration_files: list[Path] = Field(
        default_factory=list,
        description="Inspiration files in the authors' format ([{id, paper_id, inspiration}]) or "
        "their manual_v1.json format.",
    )
    experience_files: list[Path] = Field(
        default_factory=list,
        description="The authors' experience files (develop_experience.json, research_experience.json).",
    )
    max_inspirations_per_paper: int = Field(default=5, ge=1, le=50)

    seed: int = 0
