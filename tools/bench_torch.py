"""Training speed of the same models in PyTorch, for comparison with tools/bench.ts.

    /usr/bin/python3 tools/bench_torch.py [--models=resnet50,baseline] [--steps=N] [--threads=2]

Prints one JSON line per model, with the fields bench.ts prints (backend "pytorch"). The models are
the notebooks' own: the course's ResNet-50 (zero padding 3, 7x7/2 stem, 1x1 convolutions carrying
the stride, convolutions with biases, batch norm with Keras's epsilon 0.001 and momentum 0.99,
2x2 average pooling, 6 classes) and the baseline ConvNet (4x4 and 2x2 'same' convolutions padded
as TensorFlow pads them), on 64x64x3 images in channels_last layout, trained with Adam (Keras's
defaults) and categorical cross-entropy. Without --steps, one whole epoch of 1080 random images
(34 steps for ResNet-50, the last one short) is timed after a warm-up step; with --steps=N,
N steps of a full batch are timed and the epoch time is projected as bench.ts does.

Needs Debian's python3-torch (PyTorch 1.13, oneDNN); prints {"available": false, ...} without it.
"""

import json
import math
import sys
import time
from datetime import datetime, timezone

EPOCH_IMAGES = 1080
CLASSES = 6


def option(name, default):
    prefix = f"--{name}="
    for arg in sys.argv[1:]:
        if arg.startswith(prefix):
            return arg[len(prefix):]
    return default


def build_models(torch):
    nn = torch.nn
    F = torch.nn.functional

    def batch_norm(channels):
        # Keras: epsilon 0.001, moving average keeps 0.99 of the old value.
        return nn.BatchNorm2d(channels, eps=0.001, momentum=0.01)

    class Block(nn.Module):
        """Identity block (shortcut=False, stride 1) or convolutional block."""

        def __init__(self, in_channels, f, filters, stride, shortcut):
            super().__init__()
            f1, f2, f3 = filters
            self.conv1 = nn.Conv2d(in_channels, f1, 1, stride=stride)
            self.bn1 = batch_norm(f1)
            self.conv2 = nn.Conv2d(f1, f2, f, padding=f // 2)
            self.bn2 = batch_norm(f2)
            self.conv3 = nn.Conv2d(f2, f3, 1)
            self.bn3 = batch_norm(f3)
            self.shortcut = None
            if shortcut:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, f3, 1, stride=stride), batch_norm(f3)
                )

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            y = F.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(
                nn.ZeroPad2d(3),
                nn.Conv2d(3, 64, 7, stride=2),
                batch_norm(64),
                nn.ReLU(),
                nn.MaxPool2d(3, stride=2),
            )
            layers = []
            in_channels = 64
            for filters, stride, identities in [
                ((64, 64, 256), 1, 2),
                ((128, 128, 512), 2, 3),
                ((256, 256, 1024), 2, 5),
                ((512, 512, 2048), 2, 2),
            ]:
                layers.append(Block(in_channels, 3, filters, stride, True))
                for _ in range(identities):
                    layers.append(Block(filters[2], 3, filters, 1, False))
                in_channels = filters[2]
            self.stages = nn.Sequential(*layers)
            self.pool = nn.AvgPool2d(2)
            self.dense = nn.Linear(2048, CLASSES)

        def forward(self, x):
            x = self.pool(self.stages(self.stem(x)))
            return self.dense(torch.flatten(x, 1))

    class Baseline(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 4)
            self.conv2 = nn.Conv2d(8, 16, 2)
            self.dense = nn.Linear(64, CLASSES)

        def forward(self, x):
            # TensorFlow's 'same' padding for even kernels: the extra row/column goes after.
            x = F.max_pool2d(F.relu(self.conv1(F.pad(x, (1, 2, 1, 2)))), 8)
            x = F.max_pool2d(F.relu(self.conv2(F.pad(x, (0, 1, 0, 1)))), 4)
            # Keras flattens channels last.
            return self.dense(torch.flatten(x.permute(0, 2, 3, 1), 1))

    return {"resnet50": (ResNet50, 32), "baseline": (Baseline, 64)}


def bench(torch, name, build, batch, steps, threads):
    torch.manual_seed(0)
    model = build().to(memory_format=torch.channels_last)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + categorical cross-entropy
    images = torch.rand(EPOCH_IMAGES, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    labels = torch.arange(EPOCH_IMAGES) % CLASSES

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    start = time.perf_counter()
    step(images[:batch], labels[:batch])
    warm_up = time.perf_counter() - start
    steps_per_epoch = math.ceil(EPOCH_IMAGES / batch)
    start = time.perf_counter()
    if steps is None:
        order = torch.randperm(EPOCH_IMAGES)
        for i in range(steps_per_epoch):
            index = order[i * batch:(i + 1) * batch]
            step(images[index], labels[index])
        timed_steps = steps_per_epoch
        epoch = time.perf_counter() - start
        per_step = epoch / steps_per_epoch
    else:
        for _ in range(steps):
            step(images[:batch], labels[:batch])
        timed_steps = steps
        per_step = (time.perf_counter() - start) / steps
        epoch = steps_per_epoch * per_step
    line = {
        "model": name,
        "backend": "pytorch",
        "batch": batch,
        "steps": timed_steps,
        "wholeEpoch": steps is None,
        "threads": threads,
        "warmUpSeconds": round(warm_up, 2),
        "secondsPerStep": round(per_step, 3),
        "imagesPerSecond": round(batch / per_step, 1),
        "epochSeconds": round(epoch, 1),
    }
    if name == "baseline":
        line["hundredEpochsSeconds"] = round(100 * epoch, 1)
    line["torch"] = torch.__version__
    line["date"] = datetime.now(timezone.utc).isoformat()
    print(json.dumps(line), flush=True)


def main():
    try:
        import torch
    except ImportError as error:
        print(json.dumps({"backend": "pytorch", "available": False, "reason": str(error)}))
        return 0
    threads = int(option("threads", "2"))
    torch.set_num_threads(threads)
    steps = option("steps", None)
    models = build_models(torch)
    names = option("models", "resnet50,baseline").split(",")
    for name in names:
        if name not in models:
            print(f"bench_torch: unknown model {name!r} (known: {', '.join(models)})",
                  file=sys.stderr)
            return 2
    for name in names:
        build, batch = models[name]
        bench(torch, name, build, batch, None if steps is None else int(steps), threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
