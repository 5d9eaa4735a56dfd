"""The three networks of the glyph demo, written to produce LlamaGen's exact state_dict keys and layouts.

- VQModel: LlamaGen's VQ tokenizer structure (tokenizer/tokenizer_image/vq_model.py) with a configurable
  base width `ch`, `ch_mult` and `z_channels`; 2 res blocks per encoder level, 3 per decoder level,
  attention at the lowest resolution and in the middle, GroupNorm(32, eps 1e-6), swish, L2-normalised
  codebook lookup. Keys: encoder.*, decoder.*, quant_conv.*, post_quant_conv.*, quantize.embedding.weight,
  quantize.codebook_used.
- GPT: LlamaGen's class-conditional Transformer (autoregressive/models/gpt.py): RMSNorm, SwiGLU,
  2D RoPE with a zero row for the class token, no biases. Keys: cls_embedding.embedding_table.weight,
  tok_embeddings.weight, layers.i.{attention.wqkv, attention.wo, feed_forward.w1/w2/w3, attention_norm,
  ffn_norm}.weight, norm.weight, output.weight.
- GlyphClassifier: conv3x3+ReLU+maxpool x4, then fc1+ReLU (the 'features' used for the Frechet
  distance) and fc2 (logits). See docs/demo-model.md for its exact layout.
"""
import math
from dataclasses import asdict, dataclass, field
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


# ============================================================== VQ tokenizer

@dataclass
class VQArgs:
    codebook_size: int = 1024
    codebook_embed_dim: int = 8
    codebook_l2_norm: bool = True
    codebook_show_usage: bool = True
    commit_loss_beta: float = 0.25
    entropy_loss_ratio: float = 0.0
    encoder_ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2])
    decoder_ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2])
    z_channels: int = 64
    dropout_p: float = 0.0
    ch: int = 32  # base width (LlamaGen's Encoder/Decoder default is 128)

    def config_json(self):
        return asdict(self)


def swish(x):
    return x * torch.sigmoid(x)


def group_norm(c):
    return nn.GroupNorm(num_groups=32, num_channels=c, eps=1e-6, affine=True)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = group_norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = group_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)
        else:
            self.nin_shortcut = None

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(swish(self.norm2(h)))
        return (x if self.nin_shortcut is None else self.nin_shortcut(x)) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the h*w positions, 1x1 convs for q, k, v and the projection."""

    def __init__(self, c):
        super().__init__()
        self.norm = group_norm(c)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.norm(x)
        q = self.q(y).flatten(2).transpose(1, 2)  # b, hw, c
        k = self.k(y).flatten(2).transpose(1, 2)
        v = self.v(y).flatten(2).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(c)) v
        o = o.transpose(1, 2).reshape(b, c, h, w)
        return x + self.proj_out(o)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # pad right and bottom only


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    """One resolution level: 'res' (and 'attn' at the lowest resolution), then a resampler."""

    def __init__(self, widths_in_out, with_attn, resample):
        super().__init__()
        self.res = nn.ModuleList([ResBlock(a, b) for a, b in widths_in_out])
        self.attn = nn.ModuleList([AttnBlock(b) for _, b in widths_in_out] if with_attn else [])
        if resample == "down":
            self.downsample = Downsample(widths_in_out[-1][1])
        elif resample == "up":
            self.upsample = Upsample(widths_in_out[-1][1])

    def forward(self, x):
        for i, r in enumerate(self.res):
            x = r(x)
            if len(self.attn):
                x = self.attn[i](x)
        if hasattr(self, "downsample"):
            x = self.downsample(x)
        if hasattr(self, "upsample"):
            x = self.upsample(x)
        return x


class Encoder(nn.Module):
    def __init__(self, ch, ch_mult, z_channels, num_res_blocks=2, in_channels=3):
        super().__init__()
        n = len(ch_mult)
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        mults = [1] + list(ch_mult)
        blocks = []
        for i in range(n):
            cin, cout = ch * mults[i], ch * ch_mult[i]
            pairs = [(cin if j == 0 else cout, cout) for j in range(num_res_blocks)]
            blocks.append(Level(pairs, with_attn=(i == n - 1), resample="down" if i != n - 1 else None))
        self.conv_blocks = nn.ModuleList(blocks)
        c = ch * ch_mult[-1]
        self.mid = nn.ModuleList([ResBlock(c, c), AttnBlock(c), ResBlock(c, c)])
        self.norm_out = group_norm(c)
        self.conv_out = nn.Conv2d(c, z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for b in self.conv_blocks:
            h = b(h)
        for m in self.mid:
            h = m(h)
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch, ch_mult, z_channels, num_res_blocks=2, out_channels=3):
        super().__init__()
        n = len(ch_mult)
        c = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, c, 3, padding=1)
        self.mid = nn.ModuleList([ResBlock(c, c), AttnBlock(c), ResBlock(c, c)])
        blocks = []
        for i in reversed(range(n)):  # lowest resolution (last level) first
            cout = ch * ch_mult[i]
            pairs = []
            for _ in range(num_res_blocks + 1):
                pairs.append((c, cout))
                c = cout
            blocks.append(Level(pairs, with_attn=(i == n - 1), resample="up" if i != 0 else None))
        self.conv_blocks = nn.ModuleList(blocks)
        self.norm_out = group_norm(c)
        self.conv_out = nn.Conv2d(c, out_channels, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        for m in self.mid:
            h = m(h)
        for b in self.conv_blocks:
            h = b(h)
        return self.conv_out(swish(self.norm_out(h)))


class Quantizer(nn.Module):
    def __init__(self, n, dim, beta, l2_norm=True):
        super().__init__()
        self.n, self.dim, self.beta, self.l2_norm = n, dim, beta, l2_norm
        self.embedding = nn.Embedding(n, dim)
        with torch.no_grad():
            self.embedding.weight.uniform_(-1.0 / n, 1.0 / n)
            if l2_norm:
                self.embedding.weight.copy_(F.normalize(self.embedding.weight, dim=-1))
        # LlamaGen keeps the last 65536 code indices seen in training (a usage monitor); exported as is.
        self.register_buffer("codebook_used", torch.zeros(65536))

    def codebook(self):
        w = self.embedding.weight
        return F.normalize(w, dim=-1) if self.l2_norm else w

    def forward(self, z):
        """z: [B, C, H, W] -> (z_q with straight-through gradient, losses dict, indices [B, H, W])."""
        b, c, h, w = z.shape
        zf = z.permute(0, 2, 3, 1).reshape(-1, c)
        if self.l2_norm:
            zf = F.normalize(zf, dim=-1)
        e = self.codebook()
        d = (zf * zf).sum(1, keepdim=True) + (e * e).sum(1) - 2 * zf @ e.t()
        idx = d.argmin(1)
        zq = e[idx]
        losses = {}
        if self.training:
            losses["vq"] = F.mse_loss(zq, zf.detach())
            losses["commit"] = self.beta * F.mse_loss(zf, zq.detach())
            with torch.no_grad():
                k = idx.numel()
                if k < self.codebook_used.numel():
                    self.codebook_used[:-k] = self.codebook_used[k:].clone()
                    self.codebook_used[-k:] = idx.float()
        zq = zf + (zq - zf).detach()
        zq = zq.view(b, h, w, c).permute(0, 3, 1, 2).contiguous()
        return zq, losses, idx.view(b, h, w)

    def lookup(self, idx):
        """idx [B, H, W] -> [B, C, H, W]."""
        return self.codebook()[idx].permute(0, 3, 1, 2).contiguous()


class VQModel(nn.Module):
    def __init__(self, a: VQArgs):
        super().__init__()
        self.args = a
        self.encoder = Encoder(a.ch, a.encoder_ch_mult, a.z_channels)
        self.decoder = Decoder(a.ch, a.decoder_ch_mult, a.z_channels)
        self.quantize = Quantizer(a.codebook_size, a.codebook_embed_dim, a.commit_loss_beta, a.codebook_l2_norm)
        self.quant_conv = nn.Conv2d(a.z_channels, a.codebook_embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(a.codebook_embed_dim, a.z_channels, 1)

    def encode(self, x):
        return self.quantize(self.quant_conv(self.encoder(x)))

    def decode(self, zq):
        return self.decoder(self.post_quant_conv(zq))

    def decode_code(self, idx):
        return self.decode(self.quantize.lookup(idx))

    def forward(self, x):
        zq, losses, idx = self.encode(x)
        return self.decode(zq), losses, idx


# ============================================================== GPT (c2i)

def find_multiple(n, k):
    return n if n % k == 0 else n + k - n % k


@dataclass
class GPTArgs:
    dim: int = 256
    n_layer: int = 6
    n_head: int = 4
    n_kv_head: Optional[int] = None
    multiple_of: int = 256
    ffn_dim_multiplier: Optional[float] = None
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    num_classes: int = 36
    class_dropout_prob: float = 0.1
    model_type: str = "c2i"
    vocab_size: int = 1024
    cls_token_num: int = 1
    block_size: int = 144
    # training-only regularisation (LlamaGen's defaults are 0.1; not part of the exported model)
    token_dropout_p: float = 0.0
    resid_dropout_p: float = 0.0
    ffn_dropout_p: float = 0.0

    def config_json(self):
        d = asdict(self)
        for k in ("token_dropout_p", "resid_dropout_p", "ffn_dropout_p"):
            d.pop(k)
        if d["n_kv_head"] is None:
            d.pop("n_kv_head")
        if d["ffn_dim_multiplier"] is None:
            d.pop("ffn_dim_multiplier")
        return d


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope_2d_table(grid, head_dim, base, cls_tokens):
    """[cls_tokens + grid*grid, head_dim/2, 2] (cos, sin); the class rows are zero (LlamaGen's quirk).
    Pair i < head_dim/4 turns with the row index, pair i >= head_dim/4 with the column index."""
    half = head_dim // 2
    freqs = 1.0 / (base ** (torch.arange(0, half, 2)[: half // 2].float() / half))
    t = torch.arange(grid, dtype=torch.float32)
    f = torch.outer(t, freqs)  # grid, head_dim/4
    ang = torch.cat([f[:, None, :].expand(grid, grid, -1), f[None, :, :].expand(grid, grid, -1)], dim=-1)
    table = torch.stack([ang.cos(), ang.sin()], dim=-1).reshape(grid * grid, half, 2)
    return torch.cat([torch.zeros(cls_tokens, half, 2), table])


def apply_rope(x, table):
    """x [B, S, H, D]; table [S, D/2, 2]."""
    xs = x.float().reshape(*x.shape[:-1], -1, 2)
    c = table[None, :, None, :, 0]
    s = table[None, :, None, :, 1]
    out = torch.stack([xs[..., 0] * c - xs[..., 1] * s, xs[..., 1] * c + xs[..., 0] * s], dim=-1)
    return out.flatten(3).type_as(x)


class Attention(nn.Module):
    def __init__(self, a: GPTArgs):
        super().__init__()
        self.n_head = a.n_head
        self.n_kv = a.n_kv_head or a.n_head
        self.hd = a.dim // a.n_head
        self.dim = a.dim
        self.wqkv = nn.Linear(a.dim, (self.n_head + 2 * self.n_kv) * self.hd, bias=False)
        self.wo = nn.Linear(a.dim, a.dim, bias=False)
        self.drop = nn.Dropout(a.resid_dropout_p)

    def forward(self, x, rope, cache=None):
        """cache: None (causal over x) or a dict holding earlier keys/values (x is then one new token
        per sequence and attends to everything cached plus itself)."""
        b, s, _ = x.shape
        kv = self.n_kv * self.hd
        q, k, v = self.wqkv(x).split([self.dim, kv, kv], dim=-1)
        q = apply_rope(q.view(b, s, self.n_head, self.hd), rope).transpose(1, 2)
        k = apply_rope(k.view(b, s, self.n_kv, self.hd), rope).transpose(1, 2)
        v = v.view(b, s, self.n_kv, self.hd).transpose(1, 2)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        if self.n_kv != self.n_head:
            k = k.repeat_interleave(self.n_head // self.n_kv, dim=1)
            v = v.repeat_interleave(self.n_head // self.n_kv, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None and s > 1)
        return self.drop(self.wo(o.transpose(1, 2).reshape(b, s, self.dim)))


class FeedForward(nn.Module):
    def __init__(self, a: GPTArgs):
        super().__init__()
        hidden = int(2 * (4 * a.dim) / 3)
        if a.ffn_dim_multiplier is not None:
            hidden = int(a.ffn_dim_multiplier * hidden)
        hidden = find_multiple(hidden, a.multiple_of)
        self.w1 = nn.Linear(a.dim, hidden, bias=False)
        self.w3 = nn.Linear(a.dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, a.dim, bias=False)
        self.drop = nn.Dropout(a.ffn_dropout_p)

    def forward(self, x):
        return self.drop(self.w2(F.silu(self.w1(x)) * self.w3(x)))


class Block(nn.Module):
    def __init__(self, a: GPTArgs):
        super().__init__()
        self.attention = Attention(a)
        self.feed_forward = FeedForward(a)
        self.attention_norm = RMSNorm(a.dim, a.norm_eps)
        self.ffn_norm = RMSNorm(a.dim, a.norm_eps)

    def forward(self, x, rope, cache=None):
        h = x + self.attention(self.attention_norm(x), rope, cache)
        return h + self.feed_forward(self.ffn_norm(h))


class ClassEmbedding(nn.Module):
    def __init__(self, num_classes, dim, dropout_prob):
        super().__init__()
        self.num_classes, self.dropout_prob = num_classes, dropout_prob
        self.embedding_table = nn.Embedding(num_classes + (1 if dropout_prob > 0 else 0), dim)

    def forward(self, labels, train):
        if train and self.dropout_prob > 0:
            drop = torch.rand(labels.shape[0], device=labels.device) < self.dropout_prob
            labels = torch.where(drop, torch.full_like(labels, self.num_classes), labels)
        return self.embedding_table(labels).unsqueeze(1)


class GPT(nn.Module):
    def __init__(self, a: GPTArgs, init_std=0.02):
        super().__init__()
        assert a.model_type == "c2i" and a.cls_token_num == 1
        self.args = a
        self.cls_embedding = ClassEmbedding(a.num_classes, a.dim, a.class_dropout_prob)
        self.tok_embeddings = nn.Embedding(a.vocab_size, a.dim)
        self.tok_dropout = nn.Dropout(a.token_dropout_p)
        self.layers = nn.ModuleList([Block(a) for _ in range(a.n_layer)])
        self.norm = RMSNorm(a.dim, a.norm_eps)
        self.output = nn.Linear(a.dim, a.vocab_size, bias=False)
        grid = int(round(math.sqrt(a.block_size)))
        assert grid * grid == a.block_size
        self.register_buffer("rope", rope_2d_table(grid, a.dim // a.n_head, a.rope_base, a.cls_token_num),
                             persistent=False)
        for m in self.modules():  # LlamaGen's init: N(0, 0.02) for linears and embeddings, zero output
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, init_std)
        nn.init.zeros_(self.output.weight)

    def forward(self, tokens, labels, drop_labels=None):
        """Teacher forcing. tokens [B, T] (T <= block_size), labels [B] -> logits [B, T, vocab]:
        logits[:, 0] predicts tokens[:, 0] from the class alone, logits[:, t] predicts tokens[:, t]."""
        train = self.training if drop_labels is None else drop_labels
        cond = self.cls_embedding(labels, train=train)
        h = torch.cat([cond, self.tok_embeddings(tokens[:, :-1])], dim=1) if tokens.shape[1] > 1 else cond
        h = self.tok_dropout(h)
        rope = self.rope[: h.shape[1]]
        for layer in self.layers:
            h = layer(h, rope)
        return self.output(self.norm(h)).float()

    @torch.no_grad()
    def sample(self, labels, cfg_scale=1.0, temperature=1.0, top_k=0, generator=None):
        """Raster-order sampling with a KV cache, as LlamaGen's generate(): CFG runs the batch twice
        (labels, then the null class) and mixes uncond + (cond - uncond) * scale; temperature 0 is
        greedy. Returns tokens [B, block_size]."""
        a = self.args
        b = labels.shape[0]
        guided = cfg_scale > 1.0
        lab = torch.cat([labels, torch.full_like(labels, a.num_classes)]) if guided else labels
        caches = [dict() for _ in self.layers]
        h = self.cls_embedding(lab, train=False)
        out = []
        for t in range(a.block_size):
            rope = self.rope[t:t + 1]
            for layer, cache in zip(self.layers, caches):
                h = layer(h, rope, cache)
            logits = self.output(self.norm(h)).float()[:, -1]
            if guided:
                cond, uncond = logits[:b], logits[b:]
                logits = uncond + (cond - uncond) * cfg_scale
            if temperature == 0:
                nxt = logits.argmax(-1)
            else:
                logits = logits / temperature
                if top_k > 0:
                    v, _ = torch.topk(logits, min(top_k, logits.shape[-1]))
                    logits = logits.masked_fill(logits < v[:, -1:], float("-inf"))
                nxt = torch.multinomial(F.softmax(logits, -1), 1, generator=generator)[:, 0]
            out.append(nxt)
            tok = torch.cat([nxt, nxt]) if guided else nxt
            h = self.tok_embeddings(tok)[:, None, :]
        return torch.stack(out, 1)


# ============================================================== glyph classifier

@dataclass
class ClassifierArgs:
    image_size: int = 48
    in_channels: int = 3
    channels: List[int] = field(default_factory=lambda: [32, 64, 128, 128])
    fc_hidden: int = 128
    num_classes: int = 36

    def config_json(self):
        d = asdict(self)
        d["arch"] = "glyph-cnn"
        return d


class GlyphClassifier(nn.Module):
    """conv{i}: Conv2d(3x3, stride 1, padding 1, bias) -> ReLU -> MaxPool2d(2), i = 1..len(channels);
    flatten in (C, H, W) order -> fc1 (Linear) -> ReLU = features -> fc2 (Linear) = logits.
    Input: RGB in [-1, 1] (pixel / 127.5 - 1), NCHW."""

    def __init__(self, a: ClassifierArgs):
        super().__init__()
        self.args = a
        cin, side = a.in_channels, a.image_size
        for i, c in enumerate(a.channels):
            setattr(self, f"conv{i + 1}", nn.Conv2d(cin, c, 3, padding=1))
            cin, side = c, side // 2
        self.n_conv = len(a.channels)
        self.fc1 = nn.Linear(cin * side * side, a.fc_hidden)
        self.fc2 = nn.Linear(a.fc_hidden, a.num_classes)

    def features(self, x):
        for i in range(self.n_conv):
            x = F.max_pool2d(F.relu(getattr(self, f"conv{i + 1}")(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x):
        f = self.features(x)
        return self.fc2(f), f
