"""The image-generation path of transformers' `JanusForConditionalGeneration`, written out for training.

transformers' Janus generates an image as: the prompt's token embeddings (the Llama's embed_tokens),
then per image token `generation_aligner(generation_embeddings(code))` as the next input, the Llama
stack, and `generation_head` on the last hidden state for the next code's logits. This module computes
exactly that (Llama: RMSNorm, rotate-half rotary, SwiGLU; aligner: fc1, then GELU + Linear per hidden
layer; head: proj_out, GELU, vision_head) with parameter names equal to transformers' under `model.`,
so `export.py` loads the trained state into a `JanusForConditionalGeneration` by name, and checks its
logits against this module's. It is written for speed under torch.compile on a CPU: one boolean mask
per batch (left padding), scaled_dot_product_attention, no cache.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TinyJanusArgs:
    vocab_size: int          # text vocabulary (the tokenizer's, added tokens included)
    hidden_size: int = 96
    intermediate_size: int = 256
    num_hidden_layers: int = 10
    num_attention_heads: int = 2
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    codes: int = 1024        # VQ codebook size
    embed_dim: int = 8       # VQ code width (generation_embeddings' width)
    aligner_layers: int = 2  # JanusVQVAEConfig.num_hidden_layers


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):  # as LlamaRMSNorm: in float32, then the weight
        x32 = x.float()
        return self.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Attention(nn.Module):
    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        d, self.h = a.hidden_size, a.num_attention_heads
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, D = x.shape
        q, k, v = (p(x).view(B, T, self.h, D // self.h).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, D))


class MLP(nn.Module):
    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        self.gate_proj = nn.Linear(a.hidden_size, a.intermediate_size, bias=False)
        self.up_proj = nn.Linear(a.hidden_size, a.intermediate_size, bias=False)
        self.down_proj = nn.Linear(a.intermediate_size, a.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        self.self_attn = Attention(a)
        self.mlp = MLP(a)
        self.input_layernorm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(a.hidden_size, a.rms_norm_eps)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LanguageModel(nn.Module):
    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab_size, a.hidden_size)
        self.layers = nn.ModuleList([Layer(a) for _ in range(a.num_hidden_layers)])
        self.norm = RMSNorm(a.hidden_size, a.rms_norm_eps)


class Aligner(nn.Module):
    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        self.fc1 = nn.Linear(a.embed_dim, a.hidden_size)
        self.hidden_layers = nn.ModuleList([nn.Linear(a.hidden_size, a.hidden_size) for _ in range(1, a.aligner_layers)])

    def forward(self, x):
        x = self.fc1(x)
        for layer in self.hidden_layers:
            x = layer(F.gelu(x))
        return x


class Head(nn.Module):
    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        self.proj_out = nn.Linear(a.hidden_size, a.hidden_size)
        self.vision_head = nn.Linear(a.hidden_size, a.codes)

    def forward(self, x):
        return self.vision_head(F.gelu(self.proj_out(x)))


class TinyJanus(nn.Module):
    """Parameters named as transformers' JanusModel's (`language_model.*`, `generation_*`)."""

    def __init__(self, a: TinyJanusArgs):
        super().__init__()
        self.args = a
        self.language_model = LanguageModel(a)
        self.generation_embeddings = nn.Embedding(a.codes, a.embed_dim)
        self.generation_aligner = Aligner(a)
        self.generation_head = Head(a)
        hd = a.hidden_size // a.num_attention_heads
        self.register_buffer("inv_freq", 1.0 / a.rope_theta ** (torch.arange(0, hd, 2).float() / hd), persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def forward(self, prompt, keep, codes):
        """prompt: [B, P] text ids, left-padded; keep: [B, P] bool, False at padding; codes: [B, N] image
        codes. Returns the logits [B, N, codes] predicting each code (code i from the input before it)."""
        B, P = prompt.shape
        N = codes.shape[1]
        x = torch.cat([self.language_model.embed_tokens(prompt),
                       self.generation_aligner(self.generation_embeddings(codes[:, :-1]))], dim=1)  # [B, T, D]
        T = P + N - 1
        # rotary positions count from each row's first real token (left padding shifts them all equally,
        # and attention only sees their differences)
        pad = (~keep).sum(1, keepdim=True)
        pos = (torch.arange(T, device=x.device)[None] - pad).clamp(min=0).float()  # [B, T]
        f = pos[..., None] * self.inv_freq  # [B, T, hd/2]
        emb = torch.cat([f, f], dim=-1)[:, None]  # [B, 1, T, hd]
        cos, sin = emb.cos(), emb.sin()
        valid = torch.cat([keep, torch.ones(B, N - 1, dtype=torch.bool, device=x.device)], dim=1)  # [B, T]
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        mask = (causal[None] & valid[:, None, :]) | torch.eye(T, dtype=torch.bool, device=x.device)[None]
        mask = mask[:, None]  # [B, 1, T, T]: padding rows see only themselves
        for layer in self.language_model.layers:
            x = layer(x, cos, sin, mask)
        h = self.language_model.norm(x[:, P - 1:])  # the last prompt token and the image inputs
        return self.generation_head(h)
