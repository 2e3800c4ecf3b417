#!/usr/bin/env python3
"""The PyTorch baseline of bench/train_bench.cpp: the same Llama block
(RMSNorm, RoPE on adjacent pairs, grouped-query causal attention, SwiGLU,
tied embeddings), the same shapes and the same step (forward, next-token
cross-entropy, backward, gradient clip, AdamW), timed the same way on the
same threads. Written for this bench; needs Debian's python3-torch.

Usage: train_bench_torch.py DIM HIDDEN LAYERS HEADS KV_HEADS VOCAB BATCH SEQ STEPS THREADS
Prints one line: tokens_per_s=<float> step_s=<float> blas=<the libblas torch loaded>
Debian's torch calls whatever libblas.so.3 the alternatives system points
to: the generic reference BLAS (~6 GFLOP/s here) unless an optimised one
such as libopenblas0-pthread is installed (~55 GFLOP/s); the bench names it.
"""
import math
import sys
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, dim, hidden, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.mask = torch.ones(4096, 4096, dtype=torch.bool).triu(1)
        self.attn_norm = torch.nn.Parameter(torch.ones(dim))
        self.wq = torch.nn.Linear(dim, heads * self.head_dim, bias=False)
        self.wk = torch.nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.wv = torch.nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.wo = torch.nn.Linear(heads * self.head_dim, dim, bias=False)
        self.ffn_norm = torch.nn.Parameter(torch.ones(dim))
        self.w_gate = torch.nn.Linear(dim, hidden, bias=False)
        self.w_up = torch.nn.Linear(dim, hidden, bias=False)
        self.w_down = torch.nn.Linear(hidden, dim, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = rmsnorm(x, self.attn_norm)
        q = rope(self.wq(h).view(b, t, self.heads, self.head_dim), cos, sin)
        k = rope(self.wk(h).view(b, t, self.kv_heads, self.head_dim), cos, sin)
        v = self.wv(h).view(b, t, self.kv_heads, self.head_dim)
        group = self.heads // self.kv_heads
        k = k.repeat_interleave(group, dim=2)
        v = v.repeat_interleave(group, dim=2)
        # Debian's torch 1.13 has no scaled_dot_product_attention: written out.
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(self.mask[:t, :t], float("-inf"))
        a = torch.softmax(scores, dim=-1) @ v
        x = x + self.wo(a.transpose(1, 2).reshape(b, t, -1))
        h = rmsnorm(x, self.ffn_norm)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


def rmsnorm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    # adjacent pairs (2j, 2j+1) rotated by the position's angle of pair j
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Model(torch.nn.Module):
    def __init__(self, dim, hidden, layers, heads, kv_heads, vocab, seq):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, dim)
        self.blocks = torch.nn.ModuleList(Block(dim, hidden, heads, kv_heads) for _ in range(layers))
        self.norm = torch.nn.Parameter(torch.ones(dim))
        hd = dim // heads
        inv = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        ang = torch.arange(seq, dtype=torch.float64)[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos().float()[None, :, None, :])
        self.register_buffer("sin", ang.sin().float()[None, :, None, :])

    def forward(self, tokens):
        x = self.embed(tokens)
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin)
        return rmsnorm(x, self.norm) @ self.embed.weight.t()


def main():
    dim, hidden, layers, heads, kv_heads, vocab, batch, seq, steps, threads = map(int, sys.argv[1:11])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model(dim, hidden, layers, heads, kv_heads, vocab, seq)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(1)
    data = torch.randint(0, vocab, (steps + 1, batch, seq + 1), generator=gen)

    def step(i):
        tokens, targets = data[i, :, :-1], data[i, :, 1:]
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    step(0)  # warm-up, not timed
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    seconds = (time.perf_counter() - start) / steps
    with open("/proc/self/maps") as maps:
        blas = next((line.split()[-1] for line in maps if "libblas" in line or "openblas" in line), "none")
    print(f"tokens_per_s={batch * seq / seconds:.1f} step_s={seconds:.4f} blas={blas}")


if __name__ == "__main__":
    main()
