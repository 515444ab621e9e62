"""An OpenAI-compatible chat-completions server on loopback, backed by a real (tiny) causal language model.

The model is a 2-layer Qwen3 with a word-level tokenizer, trained here for a few seconds to answer a text
with its label (the keywords carry it), so the client meets real generation: real token counts in ``usage``,
real latency, and now and then a reply that names no label. ``fail_first`` answers the first N requests with
429 (``Retry-After: 0``) to exercise the client's retries.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.trainer.helpers import LABELS, tiny_rows


def train_answerer(seed: int = 0) -> tuple[Any, Any]:
    """A tiny causal LM that learnt to continue "<text> =" with the label."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    rows = tiny_rows(40)
    corpus = [f"{r['text']} = {r['label']}" for r in rows]
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=["<unk>", "<eos>", "<pad>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>", pad_token="<pad>")
    torch.manual_seed(seed)
    config = Qwen3Config(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=64,
                         tie_word_embeddings=False)
    model = Qwen3ForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = fast([c + " <eos>" for c in corpus], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    model.train()
    for _ in range(150):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return model, fast


@dataclass
class ChatServer:
    model: Any
    tokenizer: Any
    fail_first: int = 0
    requests: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    url: str = ""

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        import torch

        text = body["messages"][-1]["content"]
        ids = self.tokenizer(f"{text} =", return_tensors="pt")["input_ids"]
        with torch.no_grad():
            out = self.model.generate(
                ids, max_new_tokens=int(body.get("max_tokens", 16)), do_sample=False,
                eos_token_id=self.tokenizer.eos_token_id, pad_token_id=self.tokenizer.pad_token_id,
            )
        new = out[0, ids.shape[1]:]
        reply = self.tokenizer.decode(new, skip_special_tokens=True).strip()
        prompt_tokens = sum(len(self.tokenizer(m["content"])["input_ids"]) for m in body["messages"])
        return {
            "id": f"chatcmpl-{self.requests}",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": int(new.shape[0]),
                      "total_tokens": prompt_tokens + int(new.shape[0])},
        }

    def serve(self) -> ChatServer:
        """Start on a free loopback port in a thread; ``url`` is the API base (``http://127.0.0.1:N/v1``)."""
        from aiohttp import web

        async def completions(request: web.Request) -> web.Response:
            self.requests += 1
            body = await request.json()
            self.bodies.append(body)
            self.authorizations.append(request.headers.get("Authorization"))
            if self.requests <= self.fail_first:
                return web.json_response({"error": {"message": "rate limited"}}, status=429,
                                         headers={"Retry-After": "0"})
            return web.json_response(self.answer(body))

        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/v1/chat/completions", completions)
            runner = web.AppRunner(app)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}/v1"
            ready.set()
            loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(30)
        return self


__all__ = ["LABELS", "ChatServer", "train_answerer"]
