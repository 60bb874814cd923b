"""Checkpoint interop with PyTorch, used by CheckpointInteropTests.cs (python3-torch 1.13, numpy).
  checkpoint_interop.py names          prints the anchor Net's state_dict names and shapes as JSON
  checkpoint_interop.py roundtrip IN OUT
      loads IN (written by the C# engine) into the anchor Net with load_state_dict(strict=True), checks every value
      arrived unchanged, then writes the Net's state_dict to OUT with our writer, every float tensor negated and
      every num_batches_tracked increased by 1, so the C# side can check what PyTorch wrote."""
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
    sys.exit('anchor model pytorch_mnist.py not found (expected in ../shared/anchors beside the repository)')


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
        out[k] = v.numpy() + 1 if k.endswith('num_batches_tracked') else -v.numpy()
    safetensors_np.write(dst, out, {'format': 'pt'})
    print('ok', len(out))


if __name__ == '__main__':
    main()
