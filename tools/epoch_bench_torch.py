"""Whole epochs of the notebooks' recipe in PyTorch, for tools/epoch_bench.ts.

    /usr/bin/python3 tools/epoch_bench_torch.py --model=resnet50|baseline [--epochs=3]
                                                [--batch=N] [--threads=2] [--checkpoint=DIR]

The model is tools/bench_torch.py's, trained on the real SIGNS files as the notebook trains ours:
Adam with Keras's defaults, the training set shuffled each epoch, the test set evaluated after each
epoch (the notebook's validation data), and with --checkpoint the model and optimizer state saved
into DIR after each epoch (torch.save, as notebook 2 saves a checkpoint). Prints one JSON line:
each epoch's seconds and their phases (training steps, validation, checkpoint), and the peak
resident memory.
"""

import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accuracy_torch import load  # noqa: E402
from bench_torch import build_models, option  # noqa: E402


def main():
    name = option("model", "resnet50")
    epochs = int(option("epochs", "3"))
    threads = int(option("threads", "2"))
    checkpoint = option("checkpoint", None)
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    build, batch = build_models(torch)[name]
    batch = int(option("batch", str(batch)))  # the notebook's recipe, passed by epoch_bench.ts
    x_train, y_train = load("train")
    x_test, y_test = load("test")
    model = build().to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    phases = {"epoch": [], "steps": [], "validation": [], "checkpoint": []}
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(x_train), batch):
            index = order[i:i + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
            loss.item()
        steps_done = time.perf_counter()
        model.eval()
        with torch.no_grad():
            for i in range(0, len(x_test), batch):
                F.cross_entropy(model(x_test[i:i + batch]), y_test[i:i + batch]).item()
        validated = time.perf_counter()
        if checkpoint:
            path = os.path.join(checkpoint, "checkpoint.pt")
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch + 1}, path + ".tmp")
            os.replace(path + ".tmp", path)
        end = time.perf_counter()
        phases["epoch"].append(round(end - start, 3))
        phases["steps"].append(round(steps_done - start, 3))
        phases["validation"].append(round(validated - steps_done, 3))
        phases["checkpoint"].append(round(end - validated, 3))
    print(json.dumps({
        "model": name,
        "backend": "pytorch",
        "threads": threads,
        "epochs": epochs,
        "phases": phases,
        "peakRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "torch": torch.__version__,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
