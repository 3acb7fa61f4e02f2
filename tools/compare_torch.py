"""The PyTorch half of tools/compare_torch.ts: loads the weights and mini-batches that script wrote
into DIR into tools/bench_torch.py's ResNet-50, trains the same steps with the same recipe and
prints one JSON line per step (loss before the update, the stem's batch-norm mean and variance).

    /usr/bin/python3 tools/compare_torch.py DIR [--all]

It also compares the gradients of the first step, weight by weight (relative L2 difference; the 12
largest, or all of them in the model's order with --all), and the first update.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accuracy_torch import load  # noqa: E402
from bench_torch import build_models  # noqa: E402

PARTS = {"conv_a": "conv1", "bn_a": "bn1", "conv_b": "conv2", "bn_b": "bn2", "conv_c": "conv3",
         "bn_c": "bn3", "conv_shortcut": "shortcut.0", "bn_shortcut": "shortcut.1"}
STAGES = {2: 0, 3: 3, 4: 7, 5: 13}  # index of each stage's first block in model.stages


def module_for(model, layer):
    """The PyTorch module of a layer of lib/models/resnet.ts's ResNet-50, by its name."""
    if layer == "conv1":
        return model.stem[1]
    if layer == "bn_conv1":
        return model.stem[2]
    if layer == "fc":
        return model.dense
    block, part = layer.split("_", 1)  # res4b, conv_a
    index = STAGES[int(block[3])] + ord(block[4]) - ord("a")
    return model.stages[index].get_submodule(PARTS[part])


def main():
    folder = sys.argv[1]
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    values = np.fromfile(os.path.join(folder, "weights.bin"), dtype=np.float32)
    torch.set_num_threads(2)
    build, _ = build_models(torch)["resnet50"]
    model = build().to(memory_format=torch.channels_last)
    offset = 0
    with torch.no_grad():
        for weight in manifest["weights"]:
            count = int(np.prod(weight["shape"]))
            value = torch.from_numpy(values[offset:offset + count].reshape(weight["shape"]).copy())
            offset += count
            layer, name = weight["name"].rsplit("/", 1)
            module = module_for(model, layer)
            if name == "kernel":
                value = value.permute(3, 2, 0, 1) if value.dim() == 4 else value.t()
                module.weight.copy_(value)
            else:
                target = {"bias": "bias", "gamma": "weight", "beta": "bias",
                          "moving_mean": "running_mean", "moving_variance": "running_var"}[name]
                getattr(module, target).copy_(value)
    if offset != len(values):
        raise SystemExit(f"compare_torch: {len(values) - offset} weights left unread")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    x, y = load("train")
    model.train()
    ours_after = np.fromfile(os.path.join(folder, "after_step_1.bin"), dtype=np.float32)
    for step, batch in enumerate(manifest["batches"], 1):
        index = torch.tensor(batch)
        xb, yb = x[index], y[index]
        with torch.no_grad():
            stem = model.stem[1](model.stem[0](xb))
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        if step == 1:
            gradients = compare_gradients(model, manifest, folder)
        optimizer.step()
        print(json.dumps({
            "side": "pytorch",
            "step": step,
            "loss": loss.item(),
            "stemMean": stem.mean(dim=(0, 2, 3)).mean().item(),
            "stemVariance": stem.var(dim=(0, 2, 3), unbiased=False).mean().item(),
        }), flush=True)
        if step == 1:
            first_update = compare_update(model, manifest, values, ours_after)
    for line in gradients + first_update:
        print(json.dumps(line), flush=True)


def compare_gradients(model, manifest, folder):
    """Per trainable weight: the relative L2 difference between its gradient and ours."""
    names = json.load(open(os.path.join(folder, "grads.json")))
    ours = np.fromfile(os.path.join(folder, "grads.bin"), dtype=np.float32)
    shapes = {w["name"]: w["shape"] for w in manifest["weights"]}
    lines = []
    offset = 0
    for name in names:
        count = int(np.prod(shapes[name]))
        g = ours[offset:offset + count]
        offset += count
        layer, part = name.rsplit("/", 1)
        module = module_for(model, layer)
        grad = (module.weight if part in ("kernel", "gamma") else module.bias).grad
        if part == "kernel":
            grad = grad.permute(2, 3, 1, 0) if grad.dim() == 4 else grad.t()
        theirs = grad.contiguous().numpy().reshape(-1)
        lines.append({
            "gradient": name,
            "relativeL2": float(np.linalg.norm(g - theirs) / (np.linalg.norm(theirs) or 1.0)),
            "norm": float(np.linalg.norm(theirs)),
        })
    # A convolution's bias, followed by batch normalisation, has a gradient of 0 up to rounding.
    lines = [line for line in lines if line["gradient"] == "fc/bias"
             or not line["gradient"].endswith("/bias")]
    if "--all" in sys.argv:
        return lines
    lines.sort(key=lambda line: -line["relativeL2"])
    return lines[:12]


def compare_update(model, manifest, before, ours_after):
    """Per layer: how PyTorch's first update of each weight compares with ours."""
    lines = []
    offset = 0
    for weight in manifest["weights"]:
        count = int(np.prod(weight["shape"]))
        w0 = before[offset:offset + count]
        ours = ours_after[offset:offset + count] - w0
        offset += count
        layer, name = weight["name"].rsplit("/", 1)
        if name.startswith("moving"):
            continue
        module = module_for(model, layer)
        value = (module.weight if name in ("kernel", "gamma") else module.bias).detach()
        if name == "kernel":
            value = value.permute(2, 3, 1, 0) if value.dim() == 4 else value.t()
        theirs = value.contiguous().numpy().reshape(-1) - w0
        scale = np.abs(ours).max() or 1.0
        lines.append({
            "weight": weight["name"],
            "largestUpdate": float(scale),
            "maxDifference": float(np.abs(ours - theirs).max() / scale),
            "signsDiffer": float(np.mean(np.sign(ours) != np.sign(theirs))),
        })
    lines.sort(key=lambda line: -line["maxDifference"])
    return lines[:8]


if __name__ == "__main__":
    main()
