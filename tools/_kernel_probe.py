#!/usr/bin/python3
"""Sends short cells to a Deno kernel at the protocol level and says where their outputs went.

Usage: _kernel_probe.py --deno PATH [--kernel deno|proxy] [--cells N]
                        [--mode burst|sequential|error|interrupt|input] [--proxy-arg ARG]...

Each cell awaits a few milliseconds, prints a line and ends with a value, as a notebook cell does.
--kernel deno starts Deno's kernel as `deno jupyter --install` would register it; proxy starts it
behind tools/kernel_proxy.py. --mode burst sends every request at once, as Run All does;
sequential sends each once the previous one has its reply and its `idle` status (as the headless
runner does, without its quiet period). error makes the second cell throw; interrupt makes it a
busy loop of 15 s and interrupts it after a second (as the kernel specification says: a message for
the proxy, SIGINT for Deno's own); input makes it ask for a name with prompt(), answered "Ada"
through the stdin channel. Prints one JSON line: the status of each cell's reply (null when
none came), whether the kernel is alive at the end, the seconds from the first request to
the last cell's `idle`, how many outputs carried another cell's request id (misattributed) or came
after their own cell's `idle` (late: front ends have stopped listening by then), how many expected
outputs never came, and the latest any output followed its cell's `idle` (ms).
"""
import argparse
import json
import os
import queue
import shutil
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

TOOLS = os.path.dirname(os.path.abspath(__file__))


def kernelspec(root, args):
    spec_dir = os.path.join(root, "kernels", "probe")
    os.makedirs(spec_dir)
    if args.kernel == "deno":
        argv = [args.deno, "jupyter", "--kernel", "--conn", "{connection_file}"]
        spec = {"argv": argv, "display_name": "Deno", "language": "typescript"}
    else:
        argv = [sys.executable, os.path.join(TOOLS, "kernel_proxy.py"), "--deno", args.deno,
                *args.proxy_arg, "{connection_file}"]
        spec = {"argv": argv, "display_name": "Deno (proxy)", "language": "typescript",
                "interrupt_mode": "message"}
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump(spec, f)


def cell_code(i, mode):
    if i == 1 and mode == "error":
        return 'throw new Error("cell 1 fails")'
    if i == 1 and mode == "input":
        return 'const answer = prompt("Your name?");\n`hello ${answer}`'
    if i == 1 and mode == "interrupt":
        return "const t0 = Date.now();\nwhile (Date.now() - t0 < 15000) {}"
    return (f'await new Promise((r) => setTimeout(r, 3));\n'
            f'console.log("printed by cell {i}");\n"value of cell {i}"')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deno", required=True)
    parser.add_argument("--kernel", choices=["deno", "proxy"], default="proxy")
    parser.add_argument("--cells", type=int, default=15)
    parser.add_argument("--mode", choices=["burst", "sequential", "error", "interrupt", "input"], default="burst")
    parser.add_argument("--proxy-arg", action="append", default=[])
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="signs-probe-")
    kernelspec(root, args)
    os.environ["JUPYTER_PATH"] = root
    km = KernelManager(kernel_name="probe")
    km.start_kernel(env=dict(os.environ, NO_COLOR="1"))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        # One warm-up cell, so that the timing is of cells and not of the kernel's start.
        kc.execute("1", reply=True, timeout=60)
        while True:
            try:
                kc.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                break
        ids = []
        idle_at = {}
        replies = {}
        messages = []  # (time, msg)

        def read(timeout):
            try:
                msg = kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                return False
            now = time.monotonic()
            messages.append((now, msg))
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle_at.setdefault(parent, now)
            return True

        inputs = []

        def read_replies():
            try:
                request = kc.get_stdin_msg(timeout=0)
                inputs.append(request["content"].get("prompt"))
                kc.input("Ada")
            except queue.Empty:
                pass
            while True:
                try:
                    reply = kc.get_shell_msg(timeout=0)
                except queue.Empty:
                    return
                replies[reply["parent_header"].get("msg_id")] = reply["content"]["status"]

        start = time.monotonic()
        for i in range(args.cells):
            ids.append(kc.execute(cell_code(i, args.mode), store_history=True, allow_stdin=True))
            if args.mode == "sequential":
                while not (ids[-1] in replies and ids[-1] in idle_at):
                    read(0.01)
                    read_replies()
        interrupted = args.mode != "interrupt"
        while not all(i in idle_at for i in ids) or not all(i in replies for i in ids):
            read(0.01)
            read_replies()
            if not interrupted and time.monotonic() - start > 1:
                km.interrupt_kernel()
                interrupted = True
            if time.monotonic() - start > (30 if args.mode == "interrupt" else 120) or not km.is_alive():
                break
        elapsed = idle_at[ids[-1]] - start if ids[-1] in idle_at else None
        while read(1.0):  # whatever still comes, for a second of silence
            pass
        read_replies()
        alive = km.is_alive()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        shutil.rmtree(root, ignore_errors=True)

    index = {msg_id: i for i, msg_id in enumerate(ids)}
    misattributed = late = 0
    found = set()
    latest_ms = 0.0
    for at, msg in messages:
        if msg["msg_type"] not in ("stream", "execute_result", "display_data"):
            continue
        text = msg["content"].get("text") or msg["content"].get("data", {}).get("text/plain", "")
        parent = index.get(msg["parent_header"].get("msg_id"))
        for i in range(args.cells):
            if f"cell {i}\"" in text or f"cell {i}\n" in text or text.rstrip().endswith(f"cell {i}"):
                kind = "value" if msg["msg_type"] == "execute_result" else "print"
                found.add((i, kind))
                if parent != i:
                    misattributed += 1
                elif ids[i] in idle_at and at > idle_at[ids[i]]:
                    late += 1
                    latest_ms = max(latest_ms, (at - idle_at[ids[i]]) * 1000)
    print(json.dumps({
        "kernel": args.kernel, "mode": args.mode, "cells": args.cells,
        "seconds": None if elapsed is None else round(elapsed, 3),
        "perCellMs": None if elapsed is None else round(elapsed / args.cells * 1000, 1),
        "misattributed": misattributed, "late": late, "latestAfterIdleMs": round(latest_ms, 1),
        "missing": 2 * args.cells - len(found),
        "statuses": [replies.get(i) for i in ids], "alive": alive, "prompts": inputs,
        "values": [text for _, msg in messages if msg["msg_type"] == "execute_result"
                   for text in [msg["content"]["data"].get("text/plain", "")] if "hello" in text],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
