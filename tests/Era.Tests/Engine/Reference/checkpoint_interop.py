"""Checkpoint interop with PyTorch, used by CheckpointInteropTests.cs (python3-torch 1.13, numpy).
  checkpoint_interop.py names          prints the anchor Net's state_dict names and shapes as JSON
  checkpoint_interop.py roundtrip IN OUT
      loads IN (written by the C# engine) into the anchor Net with load_state_dict(strict=True), checks every value
      arrived unchanged, then writes the Net's state_dict to OUT with our writer, every float tensor negated (but
      running_var doubled: a variance is never negative, and the C# reader refuses one that is) and every
      num_batches_tracked increased by 1, so the C# side can check what PyTorch wrote."""
import json, os, sys
import numpy as np, torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import safetensors_np  # noqa: E402


def anchor_net():
    """The anchor model, imported from ../shared/anchors relative to the repository root (or a parent's shared/)."""
    root = os.path.abspath(os.path.join(here, '..', '..', '..', '..'))
    for up in ('..', os.path.join('..', '..'), os.path.join('..', '..', '..')):
        anchors = os.path.normpath(os.path.join(root, up, 'shared', 'anchors'))
        if os.path.exists(os.path.join(anchors, 'pytorch_mnist.py')):
            sys.path.insert(0, anchors)
            import pytorch_mnist
            return pytorch_mnist.Net
    print('note: ../shared/anchors/pytorch_mnist.py not found; using the copy of its Net in checkpoint_interop.py', file=sys.stderr)
    return Net


class Net(torch.nn.Module):
    """Copy of the anchor's Net (shared/anchors/pytorch_mnist.py), used only where shared/ is not beside the repository."""
    def __init__(s, d=0.05):
        super().__init__()
        nn = torch.nn
        def blk(i, o, k=3, p=0):
            return nn.Sequential(nn.Conv2d(i, o, k, padding=p, bias=False), nn.BatchNorm2d(o), nn.ReLU(), nn.Dropout(d))
        s.f = nn.Sequential(blk(1, 8), blk(8, 16), blk(16, 16), nn.MaxPool2d(2), nn.Conv2d(16, 8, 1, bias=False),
                            blk(8, 16), blk(16, 16), blk(16, 16), blk(16, 16, p=1), nn.AdaptiveAvgPool2d(1))
        s.fc = nn.Linear(16, 10)

    def forward(s, x):
        return torch.nn.functional.log_softmax(s.fc(s.f(x).flatten(1)), 1)


def main():
    torch.manual_seed(0)
    net = anchor_net()()
    if sys.argv[1] == 'names':
        print(json.dumps([[k, list(v.shape)] for k, v in net.state_dict().items()]))
        return
    src, dst = sys.argv[2], sys.argv[3]
    arrays = safetensors_np.read(src)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
    out = {}
    for k, v in net.state_dict().items():
        assert v.dtype == torch.from_numpy(arrays[k]).dtype, (k, v.dtype, arrays[k].dtype)
        assert np.array_equal(v.numpy(), arrays[k]), k
        out[k] = v.numpy() + 1 if k.endswith('num_batches_tracked') else 2 * v.numpy() if k.endswith('running_var') else -v.numpy()
    safetensors_np.write(dst, out, {'format': 'pt'})
    print('ok', len(out))


if __name__ == '__main__':
    main()
