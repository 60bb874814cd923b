"""PyTorch side of PyTorchCrossCheckTests.cs (python3-torch 1.13, numpy).
Usage: reference_net_step.py WEIGHTS BATCH OUT [MODEL]
  WEIGHTS  safetensors state_dict of our ReferenceNet (names as the anchor Net's: f.0.0.weight, ..., fc.bias)
  BATCH    safetensors with "x" [N, 1, 28, 28] float32 and "y" [N] (class indices stored as float32)
  OUT      written: "output" (log-probabilities), "loss", "grad.<param>" for every parameter, "state.<name>" for the
           whole state_dict after the forward (updated BN running statistics), and "sgd.<param>": the parameters
           after one torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=1e-4) step.
  MODEL    reference (default: the anchor Net of ../shared/anchors/pytorch_mnist.py), course or tiny (written below
           from the course's spec, independently of the C# code).
The model is built with dropout p = 0 and run in train mode (batch BN)."""
import os, sys
import numpy as np, torch, torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import safetensors_np  # noqa: E402
from checkpoint_interop import anchor_net  # noqa: E402


def blk(i, o, d, p=0):
    return torch.nn.Sequential(torch.nn.Conv2d(i, o, 3, padding=p, bias=False), torch.nn.BatchNorm2d(o), torch.nn.ReLU(),
                               torch.nn.Dropout(d))


class SpecNet(torch.nn.Module):
    """course and tiny as specified: f = Sequential(blocks, MaxPool2d(2), 1x1 conv, blocks, GAP), fc, log_softmax."""

    def __init__(self, name, d):
        super().__init__()
        nn = torch.nn
        if name == 'course':
            self.f = nn.Sequential(blk(1, 10, d), blk(10, 16, d), blk(16, 16, d), nn.MaxPool2d(2), nn.Conv2d(16, 10, 1, bias=False),
                                   blk(10, 16, d), blk(16, 16, d), blk(16, 20, d), blk(20, 20, d, p=1), nn.AdaptiveAvgPool2d(1))
            self.fc = nn.Linear(20, 10)
        else:
            self.f = nn.Sequential(blk(1, 8, d), blk(8, 12, d), nn.MaxPool2d(2), nn.Conv2d(12, 8, 1, bias=False),
                                   blk(8, 12, d), blk(12, 12, d), blk(12, 16, d), blk(16, 16, d, p=1), nn.AdaptiveAvgPool2d(1))
            self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(torch.flatten(self.f(x), 1)), 1)


def main():
    weights, batch, out = sys.argv[1:4]
    model = sys.argv[4] if len(sys.argv) > 4 else 'reference'
    torch.set_num_threads(1)
    net = anchor_net()(0.0) if model == 'reference' else SpecNet(model, 0.0)
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
