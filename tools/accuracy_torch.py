"""The ResNet-50 recipe of notebook 2 trained in PyTorch on the real SIGNS files, for
tools/accuracy.ts: prints one JSON line with the fields tools/_accuracy_run.ts prints.

    /usr/bin/python3 tools/accuracy_torch.py --seed=N [--epochs=20] [--batch=32] [--threads=2]
                                             [--initialization=independent|seed0]

The model is tools/bench_torch.py's (the course's ResNet-50, channels_last). Its start follows the
course: uniform weights in [-0.05, 0.05] in the identity blocks, Glorot-uniform in the
convolutional blocks, the stem and the dense layer, zero biases; "independent" draws every layer
from the seeded generator in turn, "seed0" starts every layer from the same sequence (a generator
seeded with 0 for each layer, drawn in TensorFlow's HWIO order), as TF.js does with seed=0. Adam
with Keras's defaults, batch 32, shuffled each epoch, 20 epochs, the test set evaluated after each
epoch as the notebook's validation data. As in the course, the blocks' batch normalisation uses the
statistics of the batch at hand also when evaluating (and updates its running averages, as Keras's
training=True does), the stem's follows the phase. The epoch of lowest training loss is kept; its
population statistics are then recomputed over the training images ("precise BN", as
lib/training/recalibration.ts does) for inference mode, where the learner's photo is predicted.

Needs Debian's python3-torch, python3-h5py and python3-pil.
"""

import copy
import json
import math
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import build_models, option  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 32


def load(name):
    with h5py.File(os.path.join(ROOT, "datasets", f"{name}_signs.h5"), "r") as f:
        x = np.array(f[f"{name}_set_x"], dtype=np.float32) / 255
        y = np.array(f[f"{name}_set_y"]).reshape(-1).astype(np.int64)
    images = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    return images, torch.from_numpy(y)


def glorot_limit(weight):
    fan_in = weight[0].numel()
    fan_out = weight.shape[0] * (weight[0][0].numel() if weight.dim() == 4 else 1)
    return math.sqrt(6 / (fan_in + fan_out))


def initialize(model, initialization, generator):
    """The course's initialisers, drawn independently or every layer from seed 0."""
    for block in model.modules():
        if hasattr(block, "shortcut") and block.shortcut is None:
            for conv in (block.conv1, block.conv2, block.conv3):
                conv.identity_block = True
    for layer in model.modules():
        if not isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            continue
        weight = layer.weight
        limit = 0.05 if getattr(layer, "identity_block", False) else glorot_limit(weight)
        if weight.dim() == 4:
            cout, cin, kh, kw = weight.shape
            shape = (kh, kw, cin, cout)
        else:
            shape = (weight.shape[1], weight.shape[0])
        source = torch.Generator().manual_seed(0) if initialization == "seed0" else generator
        values = (torch.rand(shape, generator=source) * 2 - 1) * limit
        with torch.no_grad():
            if weight.dim() == 4:
                weight.copy_(values.permute(3, 2, 0, 1))
            else:
                weight.copy_(values.t())
            layer.bias.zero_()


def batch_norms(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def course_mode(model):
    """Blocks normalise with batch statistics, the stem with its running averages."""
    model.train()
    model.stem.eval()


def evaluate(model, x, y, mode):
    mode(model)
    correct = 0
    loss = 0.0
    predicted = []
    with torch.no_grad():
        for start in range(0, len(x), BATCH):
            out = model(x[start:start + BATCH])
            loss += F.cross_entropy(out, y[start:start + BATCH], reduction="sum").item()
            predicted.append(out.argmax(1))
    predicted = torch.cat(predicted)
    correct = (predicted == y).sum().item()
    return loss / len(x), correct / len(x), predicted


def recalibrate(model, x):
    """Running statistics replaced by the exact population statistics of each layer's inputs."""
    layers = batch_norms(model)
    sums = {}

    def hook(layer, inputs):
        v = inputs[0].detach().double()
        s = sums.setdefault(layer, [0, 0.0, 0.0])
        s[0] += v.numel() // v.shape[1]
        s[1] = s[1] + v.sum(dim=(0, 2, 3))
        s[2] = s[2] + (v * v).sum(dim=(0, 2, 3))

    handles = [layer.register_forward_pre_hook(hook) for layer in layers]
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), BATCH):
            model(x[start:start + BATCH])
    for handle in handles:
        handle.remove()
    for layer in layers:
        n, s1, s2 = sums[layer]
        mean = s1 / n
        layer.running_mean.copy_(mean.float())
        layer.running_var.copy_((s2 / n - mean * mean).float())


def photo(model, size=64):
    path = os.environ.get("SIGNS_MY_IMAGE") or os.path.join(ROOT, "..", "shared", "images",
                                                             "my_image.jpg")
    if not os.path.exists(path):
        return None
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    factor = min(x.shape[2] // size, x.shape[3] // size)
    if factor >= 2:
        x = F.avg_pool2d(x, factor)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=True) / 255
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(x.contiguous(memory_format=torch.channels_last)), 1)[0]
    return int(p.argmax()), round(float(p.max()), 4)


def main():
    seed = int(option("seed", "1"))
    epochs = int(option("epochs", "20"))
    global BATCH
    BATCH = int(option("batch", str(BATCH)))  # the notebook's recipe, passed by accuracy.ts
    initialization = option("initialization", "independent")
    torch.set_num_threads(int(option("threads", "2")))
    generator = torch.Generator().manual_seed(seed)
    build, _ = build_models(torch)["resnet50"]
    model = build().to(memory_format=torch.channels_last)
    initialize(model, initialization, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    x_train, y_train = load("train")
    x_test, y_test = load("test")
    losses = []
    kept = None
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for start in range(0, len(order), BATCH):
            index = order[start:start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        losses.append(total / len(order))
        _, val_accuracy, _ = evaluate(model, x_test, y_test, course_mode)
        print(f"Epoch {epoch}/{epochs} - loss: {losses[-1]:.4f} - val_accuracy: {val_accuracy:.4f}",
              file=sys.stderr, flush=True)
        if math.isfinite(losses[-1]) and losses[-1] == min(losses):
            kept = (epoch, copy.deepcopy(model.state_dict()))
    seconds = time.perf_counter() - started
    _, last_accuracy, _ = evaluate(model, x_test, y_test, course_mode)
    model.load_state_dict(kept[1])
    _, kept_accuracy, _ = evaluate(model, x_test, y_test, course_mode)
    model.load_state_dict(kept[1])
    _, running_accuracy, _ = evaluate(model, x_test, y_test, lambda m: m.eval())
    recalibrate(model, x_train)
    _, recalibrated_accuracy, _ = evaluate(model, x_test, y_test, lambda m: m.eval())
    mine = photo(model)
    jumps = [b - a for a, b in zip(losses, losses[1:])]
    r = lambda v: round(v, 4)  # noqa: E731
    print(json.dumps({
        "recipe": "course",
        "initialization": initialization,
        "seed": seed,
        "backend": "pytorch",
        "epochs": epochs,
        "trainImages": len(x_train),
        "lastLoss": r(losses[-1]),
        "bestLossEpoch": kept[0],
        "keptEpoch": kept[0],
        "largestLossJump": r(max([0.0] + jumps)),
        "testAccuracyLast": r(last_accuracy),
        "testAccuracyKept": r(kept_accuracy),
        "testAccuracyMovingAverages": r(running_accuracy),
        "testAccuracyRecalibrated": r(recalibrated_accuracy),
        "testAccuracyOneAtATime": r(recalibrated_accuracy),
        "photoClass": mine[0] if mine else None,
        "photoProbability": mine[1] if mine else None,
        "lossHistory": [r(v) for v in losses],
        "seconds": round(seconds),
        "torch": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
