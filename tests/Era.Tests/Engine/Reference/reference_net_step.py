"""PyTorch side of PyTorchCrossCheckTests.cs (python3-torch 1.13, numpy).
Usage: reference_net_step.py WEIGHTS BATCH OUT
  WEIGHTS  safetensors state_dict of our ReferenceNet (names as the anchor Net's: f.0.0.weight, ..., fc.bias)
  BATCH    safetensors with "x" [N, 1, 28, 28] float32 and "y" [N] (class indices stored as float32)
  OUT      written: "output" (log-probabilities), "loss", "grad.<param>" for every parameter, "state.<name>" for the
           whole state_dict after the forward (updated BN running statistics), and "sgd.<param>": the parameters
           after one torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=1e-4) step.
The anchor Net (../shared/anchors/pytorch_mnist.py) is built with dropout p = 0 and run in train mode (batch BN)."""
import os, sys
import numpy as np, torch, torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import safetensors_np  # noqa: E402
from checkpoint_interop import anchor_net  # noqa: E402


def main():
    weights, batch, out = sys.argv[1:4]
    torch.set_num_threads(1)
    net = anchor_net()(0.0)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in safetensors_np.read(weights).items()}, strict=True)
    b = safetensors_np.read(batch)
    x = torch.from_numpy(b['x'])
    y = torch.from_numpy(b['y']).long()
    net.train()
    output = net(x)
    loss = F.nll_loss(output, y)
    loss.backward()
    result = {'output': output.detach().numpy(), 'loss': loss.detach().numpy()}
    for k, p in net.named_parameters():
        result['grad.' + k] = p.grad.numpy().copy()
    for k, v in net.state_dict().items():
        result['state.' + k] = v.numpy().copy()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    opt.step()
    for k, p in net.named_parameters():
        result['sgd.' + k] = p.detach().numpy().copy()
    safetensors_np.write(out, result)
    print('ok', float(loss))


if __name__ == '__main__':
    main()
