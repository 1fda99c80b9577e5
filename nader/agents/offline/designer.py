"""The offline designer: an LLM provider that needs no network, so a session runs out of the box.

It answers every agent task from the request's structured ``fields`` — relevance by keywords,
extraction by sentence heuristics, ranking by embedding similarity to what it can build, tips from
error codes — and designs blocks with a library of verified graph rewrites
(:mod:`nader.agents.offline.rewrites`). It replies with *text*, shaped like a model's answer (a
sentence of prose, the block in a ``` fence), so the Modifier and Reflector run exactly the code
path they run for a real model. Every answer starts with ``# offline designer: ...`` and is
logged, so nobody mistakes its output for a model's.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from nader.agents import tasks
from nader.agents.embedders import option
from nader.agents.offline.graph_edit import EditableGraph, ShapeContext
from nader.agents.offline.heuristics import (
    judge_relevance,
    pick_inspiring_sentences,
    tips_for_codes,
)
from nader.agents.offline.matching import match_score, rank_rewrites, stable_seed
from nader.agents.offline.rewrites import REWRITES, REWRITES_BY_NAME, Rewrite
from nader.agents.offline.sites import Site
from nader.errors import NaderError
from nader.ir.graph import Role
from nader.ir.parser import parse_network
from nader.ir.printer import print_block
from nader.ir.registry import OperatorRegistry
from nader.ir.verify import verify_block
from nader.llm.base import LLMError, LLMRequest, LLMResponse, Usage
from nader.llm.pricing import estimate_tokens
from nader.plugins.registries import Runtime

log = logging.getLogger(__name__)

PROVIDER_NAME = "offline"
MODEL_NAME = "offline-designer"
MARK = "# offline designer:"
_REWRITE_MARK = re.compile(r"#\s*offline designer:\s*([a-z_]+)")
STEM_REWRITES = frozenset({"activation_swap", "layer_norm"})
MAX_NAME = 48


def child_name(parent: str, tag: str) -> str:
    """``ResNetBasicBlock`` + ``SE`` -> ``ResNetBasicBlock_SE`` (shortened when long)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", parent) or "Cell"
    for word in ("stem", "downsample"):
        base = re.sub(word, "", base, flags=re.I)
    name = f"{base.strip('_')}_{tag}"
    if len(name) > MAX_NAME:
        head = base.split("_")[0][:20]
        name = f"{head}_{stable_seed(name) % 10**6:06d}_{tag}"
    return name


class OfflineDesigner:
    """Provider ``offline``: deterministic answers for every agent task."""

    name = PROVIDER_NAME

    def __init__(self, registry: OperatorRegistry, seed: int = 0) -> None:
        self.seed = seed
        self.registry = registry

    @classmethod
    def from_config(cls, config: Any, runtime: Runtime) -> OfflineDesigner:
        """Factory for ``register_llm_providers``: reads ``seed`` from the ``[llm]`` config and
        designs with the runtime's operators (plugins' included)."""
        seed = option(config, "seed", 0)
        return cls(runtime.operators, seed=int(seed) if seed is not None else 0)

    # -- provider protocol
    def complete(self, request: LLMRequest) -> LLMResponse:
        started = time.perf_counter()
        handler = {
            tasks.PAPER_RELEVANCE: self._relevance,
            tasks.EXTRACT_INSPIRATIONS: self._extraction,
            tasks.RANK_INSPIRATIONS: self._ranking,
            tasks.MODIFY_BLOCK: self._modify,
            tasks.FIX_BLOCK: self._fix,
            tasks.WRITE_STEM_DOWNSAMPLE: self._stem_downsample,
            tasks.REFLECT_FAILURE: self._failure_tips,
            tasks.REFLECT_ACCURACY_DROP: self._accuracy_tips,
        }.get(request.task)
        if handler is None:
            raise LLMError(f"the offline designer does not know task {request.task!r}")
        text = handler(request.fields)
        log.info("%s", text.splitlines()[0])
        prompt = sum(estimate_tokens(m.content) for m in request.messages)
        return LLMResponse(
            text=text,
            usage=Usage(input_tokens=prompt, output_tokens=estimate_tokens(text)),
            model=MODEL_NAME,
            provider=PROVIDER_NAME,
            latency_s=time.perf_counter() - started,
            finish_reason="stop",
        )

    # -- reader and proposer tasks
    def _relevance(self, fields: Mapping[str, Any]) -> str:
        relevant, hits = judge_relevance(
            str(fields.get("title", "")), str(fields.get("abstract", ""))
        )
        why = ", ".join(hits[:5]) or "no block-design terms"
        return f"{MARK} relevance by keywords\n{'Yes' if relevant else 'No'}. Design terms found: {why}."

    def _extraction(self, fields: Mapping[str, Any]) -> str:
        limit = int(fields.get("max_items", 5))
        sentences = pick_inspiring_sentences(str(fields.get("method", "")), limit)
        lines = [f"{MARK} extraction by sentence heuristics"]
        lines += [f"{i}. {s}" for i, s in enumerate(sentences, 1)]
        return "\n".join(lines)

    def _ranking(self, fields: Mapping[str, Any]) -> str:
        candidates = [str(c) for c in fields.get("candidates", [])]
        # a seeded jitter of up to one keyword hit keeps different cells from always getting
        # the same favourite inspiration
        rng = random.Random(stable_seed(self.seed, fields.get("cell", "")))
        scores = [max(match_score(c, r) for r in REWRITES) + rng.random() for c in candidates]
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
        ranking = ", ".join(str(i + 1) for i in order)
        return f"{MARK} ranking by similarity to its rewrite library\nRanking: {ranking}"

    # -- design tasks
    def _options(
        self, graph: EditableGraph, ctx: ShapeContext, text: str, seed: int
    ) -> Iterator[tuple[Rewrite, Site]]:
        for rewrite in rank_rewrites(text, seed):
            sites = rewrite.sites(ctx)
            random.Random(stable_seed(seed, rewrite.name)).shuffle(sites)
            for site in sites:
                yield rewrite, site

    def _verified(self, graph: EditableGraph, role: Role, name: str) -> tuple[str, str] | None:
        """Canonical text and hash of ``graph`` if it verifies in ``role``."""
        try:
            block = parse_network(graph.to_text(name)).blocks[0]
        except NaderError:
            return None
        report = verify_block(block, self.registry, role=role)
        if not report.valid or report.hash is None:
            return None
        return print_block(block, self.registry), report.hash

    def design_cell(
        self, cell_text: str, inspiration: str, attempt: int = 0
    ) -> tuple[str, Rewrite, Site] | None:
        """The ``attempt``-th distinct valid rewrite of ``cell_text`` that fits ``inspiration``."""
        graph = EditableGraph.from_text(cell_text, self.registry)
        ctx = ShapeContext(graph, self.registry, Role.CELL)
        parent = self._verified(graph, Role.CELL, graph.name)
        seen = {parent[1]} if parent else set()
        found = 0
        for rewrite, site in self._options(
            graph, ctx, inspiration, stable_seed(self.seed, inspiration, cell_text)
        ):
            result = rewrite.apply(graph, ctx, site)
            if result is None:
                continue
            verified = self._verified(result, Role.CELL, child_name(graph.name, rewrite.tag))
            if verified is None or verified[1] in seen:
                continue
            seen.add(verified[1])
            if found == attempt:
                return verified[0], rewrite, site
            found += 1
        return None

    def _modify(self, fields: Mapping[str, Any]) -> str:
        return self._cell_answer(fields, int(fields.get("attempt", 0)))

    def _cell_answer(self, fields: Mapping[str, Any], attempt: int) -> str:
        inspiration = str(fields.get("inspiration", ""))
        # candidate i of k (a pre-screen) takes every k-th rewrite from the i-th on, so the k
        # dialogues of one proposal never answer with the same rewrite
        candidates = max(1, int(fields.get("candidates", 1)))
        index = attempt * candidates + int(fields.get("candidate", 0))
        try:
            designed = self.design_cell(str(fields.get("cell", "")), inspiration, index)
        except NaderError as err:
            return f"{MARK} cannot read the cell\nI could not parse the cell I was given: {err}"
        if designed is None:
            return f"{MARK} no rewrite left\nNone of my rewrites gives another valid, new cell for this suggestion."
        text, rewrite, site = designed
        return (
            f"{MARK} {rewrite.name} ({site.describe()})\n"
            f"Following the suggestion, I apply the '{rewrite.name}' rewrite: {rewrite.description}.\n\n"
            f"```\n{text}```\n"
        )

    def _fix(self, fields: Mapping[str, Any]) -> str:
        attempt = int(fields.get("attempt", 1))
        if str(fields.get("stage", "cell")) == "cell":
            return self._cell_answer(fields, attempt)
        return self._stem_downsample_answer(fields, attempt)

    def _stem_downsample(self, fields: Mapping[str, Any]) -> str:
        return self._stem_downsample_answer(fields, int(fields.get("attempt", 0)))

    def _adapt(
        self, block_text: str, role: Role, rewrite: Rewrite | None, name: str, seed: int
    ) -> tuple[str, str]:
        """The parent's stem/downsample with the cell's rewrite applied where it fits."""
        graph = EditableGraph.from_text(block_text, self.registry)
        if rewrite is not None and (role is Role.DOWNSAMPLE or rewrite.name in STEM_REWRITES):
            ctx = ShapeContext(graph, self.registry, role)
            sites = rewrite.sites(ctx)
            random.Random(seed).shuffle(sites)
            for site in sites:
                result = rewrite.apply(graph, ctx, site)
                verified = self._verified(result, role, name) if result is not None else None
                if verified is not None:
                    return verified[0], f"{rewrite.name} applied"
        verified = self._verified(graph, role, name)
        if verified is None:
            return graph.to_text(name), "kept as it was"
        return verified[0], "kept as it was"

    def _stem_downsample_answer(self, fields: Mapping[str, Any], attempt: int) -> str:
        cell_answer = str(fields.get("cell_answer", ""))
        match = _REWRITE_MARK.search(cell_answer)
        rewrite = REWRITES_BY_NAME.get(match.group(1)) if match and attempt == 0 else None
        name = str(fields.get("name", "Cell"))
        seed = stable_seed(self.seed, name)
        try:
            stem, stem_note = self._adapt(
                str(fields.get("stem", "")), Role.STEM, rewrite, f"{name}_stem", seed
            )
            down, down_note = self._adapt(
                str(fields.get("downsample", "")),
                Role.DOWNSAMPLE,
                rewrite,
                f"{name}_downsample",
                seed,
            )
        except NaderError as err:
            return f"{MARK} cannot read the stem or downsample\n{err}"
        return (
            f"{MARK} stem and downsample ({'stem ' + stem_note}; downsample {down_note})\n"
            "Here are the stem and downsample blocks for the new cell.\n\n"
            f"```\n{stem}{down}```\n"
        )

    # -- reflector tasks
    def _failure_tips(self, fields: Mapping[str, Any]) -> str:
        tips = tips_for_codes(
            list(fields.get("categories", [])),
            str(fields.get("change", "")),
            str(fields.get("kind", "failure")),
            str(fields.get("suggestion", "")),
        )
        return f"{MARK} tips from error codes\n" + "\n".join(f"- {tip}" for tip in tips)

    def _accuracy_tips(self, fields: Mapping[str, Any]) -> str:
        change = str(fields.get("change", "the change"))
        parent, child = fields.get("parent_acc"), fields.get("child_acc")
        drop = ""
        if isinstance(parent, (int, float)) and isinstance(child, (int, float)):
            drop = f" by {parent - child:.2f} points"
        return (
            f"{MARK} tips from the accuracy record\n"
            f"- Changes like '{change}' lowered validation accuracy{drop}; try them elsewhere in the block or with fewer new layers.\n"
            "- Prefer changes that keep the residual path and the channel count unchanged when accuracy is already high."
        )
