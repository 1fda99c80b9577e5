"""Embedders: hashing (deterministic across processes), OpenAI over a real local HTTP server,
sentence-transformers when installed."""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nader.agents.embedders import (
    HashingEmbedder,
    OpenAIEmbedder,
    hashing_factory,
    openai_factory,
    sentence_transformers_factory,
)
from nader.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hashing_vectors_are_unit_length_and_fixed_size():
    embedder = HashingEmbedder(dimension=256)
    vectors = embedder.embed(["squeeze and excitation attention", "", "a the of"])
    assert [len(v) for v in vectors] == [256, 256, 256]
    assert math.isclose(math.sqrt(sum(x * x for x in vectors[0])), 1.0, rel_tol=1e-9)
    assert all(x == 0.0 for x in vectors[1])  # nothing to embed
    assert all(x == 0.0 for x in vectors[2])  # stopwords only


def test_hashing_similarity_follows_shared_words():
    embedder = HashingEmbedder()
    se, se2, dilation = embedder.embed(
        [
            "channel attention with squeeze and excitation",
            "squeeze and excitation recalibrates channel responses",
            "dilated convolution enlarges the receptive field",
        ]
    )
    assert _cosine(se, se2) > 0.3
    assert _cosine(se, se2) > _cosine(se, dilation) + 0.2


def test_hashing_is_identical_in_another_process():
    text = "Residual connections ease optimisation of deep networks"
    here = HashingEmbedder(dimension=128).embed_one(text)
    code = (
        "import json; from nader.agents.embedders import HashingEmbedder; "
        f"print(json.dumps(HashingEmbedder(dimension=128).embed_one({text!r})))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == here


def test_hashing_factory_reads_options_from_mappings_objects_and_none():
    assert hashing_factory(None).dimension == 512
    assert hashing_factory({"dimension": 64}).dimension == 64

    class Options:
        dimension = 32

    assert hashing_factory(Options()).identity == "hashing-32"
    with pytest.raises(ConfigError):
        hashing_factory({"dimension": 2})


# ------------------------------------------------------------------ OpenAI-compatible server


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: list[dict] = []
    dimension = 6

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != "/v1/embeddings":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({**body, "authorization": self.headers.get("Authorization")})
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        size = body.get("dimensions") or self.dimension
        data = []
        for index, text in enumerate(inputs):
            vector = [float(len(text) % (k + 2)) + k for k in range(size)]
            if body.get("encoding_format") == "base64":
                embedding: object = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
            else:
                embedding = vector
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        payload = json.dumps(
            {
                "object": "list",
                "data": list(reversed(data)),  # out of order on purpose: the client must sort
                "model": body["model"],
                "usage": {"prompt_tokens": 3, "total_tokens": 3},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture()
def embeddings_server() -> Iterator[str]:
    _EmbeddingsHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_openai_embedder_through_the_real_sdk(embeddings_server):
    embedder = openai_factory(
        {"base_url": embeddings_server, "api_key": "sk-test", "model": "emb-small", "batch_size": 2}
    )
    vectors = embedder.embed(["a", "bbb", "cc"])
    assert [v[0] for v in vectors] == [float(len(t) % 2) for t in ("a", "bbb", "cc")]
    assert embedder.dimension == 6
    sent = _EmbeddingsHandler.requests
    assert [r["input"] for r in sent] == [["a", "bbb"], ["cc"]]
    assert {r["model"] for r in sent} == {"emb-small"}
    assert sent[0]["authorization"] == "Bearer sk-test"


def test_openai_embedder_asks_for_a_dimension(embeddings_server):
    embedder = OpenAIEmbedder("emb", base_url=embeddings_server, api_key="k", dimension=4)
    assert len(embedder.embed(["x"])[0]) == 4
    assert _EmbeddingsHandler.requests[-1]["dimensions"] == 4
    assert embedder.identity == "openai-emb-4"


def test_openai_embedder_needs_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="API key"):
        OpenAIEmbedder("emb", base_url="http://127.0.0.1:9/v1")


# ---------------------------------------------------------------------- sentence-transformers


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="sentence-transformers is installed",
)
def test_sentence_transformers_missing_gives_an_install_hint(tmp_path):
    with pytest.raises(ConfigError, match="pip install sentence-transformers"):
        sentence_transformers_factory({"model_path": str(tmp_path)})


def test_sentence_transformers_with_a_local_model(tmp_path):
    pytest.importorskip("sentence_transformers")
    model_path = os.environ.get("NADER_ST_MODEL")
    if not model_path:
        pytest.skip("set NADER_ST_MODEL to a local sentence-transformers model folder")
    embedder = sentence_transformers_factory({"model_path": model_path})
    a, b = embedder.embed(["channel attention", "channel attention"])
    assert len(a) == embedder.dimension and math.isclose(_cosine(a, b), 1.0, rel_tol=1e-5)


def test_sentence_transformers_needs_a_model_path():
    with pytest.raises(ConfigError, match="model_path"):
        sentence_transformers_factory({})
