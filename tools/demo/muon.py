"""Muon for the GPT's hidden matrices, AdamW for everything else, in one torch optimizer.

Muon (K. Jordan et al., 2024) replaces a matrix's update by the nearest semi-orthogonal matrix to its
Nesterov momentum (5 Newton-Schulz iterations), so every direction of the update moves at the same rate.
It needs fewer steps than AdamW for the same loss, which is what the CPU budget is short of.

Parameter groups carry `muon` (True: Muon, False: AdamW) and `lr_scale` (the group's learning rate is
`lr * lr_scale`, so one schedule sets `lr` for every group). A Muon parameter may carry `splits`: the
number of equal row blocks orthogonalised separately (the fused wqkv projection is 3 matrices).
"""
import torch


def newton_schulz(g, steps=5, eps=1e-7):
    """Approximately U V^T of g = U S V^T (batched over leading dims), by the quintic iteration of Muon."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g / (g.norm(dim=(-2, -1), keepdim=True) + eps)
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = x.mT
    for _ in range(steps):
        s = x @ x.mT
        x = a * x + (b * s + c * s @ s) @ x
    return x.mT if tall else x


class MuonAdamW(torch.optim.Optimizer):
    def __init__(self, groups, lr, betas=(0.9, 0.95), eps=1e-8, momentum=0.95):
        super().__init__(groups, dict(lr=lr, betas=betas, eps=eps, momentum=momentum, weight_decay=0.0,
                                      muon=False, lr_scale=1.0, splits=1))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            lr = g["lr"] * g["lr_scale"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if g["muon"]:
                    buf = st.setdefault("momentum", torch.zeros_like(p))
                    buf.lerp_(p.grad, 1 - g["momentum"])
                    u = p.grad.lerp(buf, g["momentum"])  # Nesterov
                    rows = p.shape[0] // g["splits"]
                    u = newton_schulz(u.view(g["splits"], rows, p.shape[1])).reshape(p.shape)
                    p.mul_(1 - lr * g["weight_decay"])
                    p.add_(u, alpha=-lr * max(1.0, rows / p.shape[1]) ** 0.5)
                else:
                    if not st:
                        st["step"] = 0
                        st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
                    b1, b2 = g["betas"]
                    st["step"] += 1
                    st["m"].lerp_(p.grad, 1 - b1)
                    st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    m_hat = st["m"] / (1 - b1 ** st["step"])
                    v_hat = st["v"] / (1 - b2 ** st["step"])
                    p.mul_(1 - lr * g["weight_decay"])
                    p.addcdiv_(m_hat, v_hat.sqrt_().add_(g["eps"]), value=-lr)
