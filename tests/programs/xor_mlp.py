"""XOR with a two-layer network: tanh hidden layer, sigmoid output, MSE loss, plain SGD.

A PyTorch program of the kind tutorials start with; the test runs it on torch and on minigrad
(imports swapped) and requires every printed number to be equal: losses and outputs to 6
decimals, the weights (which grow past 3) to 4. At full precision the first difference is a
last bit of a Linear layer's product at step 0 (torch's MKL sums the products in another order,
with fused multiply-adds); by epoch 50 it reaches the loss's 9th significant digit.
"""

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
inputs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
targets = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
loss_function = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

for epoch in range(1, 301):
    optimizer.zero_grad()
    loss = loss_function(model(inputs), targets)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == 1:
        print(epoch, f"{loss.item():.6f}")

with torch.no_grad():
    print([f"{v:.6f}" for v in model(inputs).flatten().tolist()])
print([f"{v:.4f}" for v in model[0].weight.flatten().tolist()])
