"""Names of the agent tasks: the ``task`` of every :class:`~nader.llm.base.LLMRequest`.

Providers, recordings and the offline designer dispatch on these strings, and each one has a
prompt template ``nader/prompts/<template>.txt``.
"""

from __future__ import annotations

PAPER_RELEVANCE = "paper_relevance"
EXTRACT_INSPIRATIONS = "extract_inspirations"
RANK_INSPIRATIONS = "rank_inspirations"
MODIFY_BLOCK = "modify_block"
WRITE_STEM_DOWNSAMPLE = "write_stem_downsample"
FIX_BLOCK = "fix_block"
REFLECT_FAILURE = "reflect_failure"
REFLECT_ACCURACY_DROP = "reflect_accuracy_drop"

#: task -> the template file (without ``.txt``) its user message is rendered from
TEMPLATE_OF_TASK: dict[str, str] = {
    PAPER_RELEVANCE: "paper_relevance",
    EXTRACT_INSPIRATIONS: "inspiration_extraction",
    RANK_INSPIRATIONS: "inspiration_ranking",
    MODIFY_BLOCK: "block_modification",
    WRITE_STEM_DOWNSAMPLE: "stem_downsample",
    FIX_BLOCK: "error_fix",
    REFLECT_FAILURE: "failure_reflection",
    REFLECT_ACCURACY_DROP: "accuracy_drop_reflection",
}

READER = "reader"
PROPOSER = "proposer"
MODIFIER = "modifier"
REFLECTOR = "reflector"
