"""Fit sin(x) with a cubic, three ways (as PyTorch's "Learning PyTorch with Examples"): raw tensors
with autograd, nn.Sequential with RMSprop, and a custom autograd Function.

The Legendre fit's losses are sums of 2,000 squares, which minigrad adds in another order than
torch's vectorised sum; over 300 steps that moves the third decimal, so they print one decimal."""

import math

import torch
import torch.nn as nn


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

torch.manual_seed(0)
a, b, c, d = (torch.randn((), dtype=dtype, requires_grad=True) for _ in range(4))
learning_rate = 1e-6
for t in range(500):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, round(loss.item(), 2))
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
print(f"Result: y = {a.item():.5f} + {b.item():.5f} x + {c.item():.5f} x^2 + {d.item():.5f} x^3")

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
loss_fn = nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(300):
    loss = loss_fn(model(xx), y)
    if t % 100 == 99:
        print(t, round(loss.item(), 3))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
layer = model[0]
print(f"nn: y = {layer.bias.item():.5f} + {layer.weight[:, 0].item():.5f} x + "
      f"{layer.weight[:, 1].item():.5f} x^2 + {layer.weight[:, 2].item():.5f} x^3")

a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
for t in range(300):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, round(loss.item(), 1))
    loss.backward()
    with torch.no_grad():
        for q in (a, b, c, d):
            q -= 5e-6 * q.grad
            q.grad = None
print(f"Legendre: y = {round(a.item(), 5) + 0.0:.5f} + {b.item():.5f} * P3({round(c.item(), 5) + 0.0:.5f} + "
      f"{d.item():.5f} x)")
