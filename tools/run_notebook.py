#!/usr/bin/python3
"""Executes a notebook with Deno's Jupyter kernel, headless, without losing outputs.

Usage: run_notebook.py --deno PATH --out DIR [--html] [--cell-timeout SECONDS] NOTEBOOK

The kernel is started from a temporary kernelspec (nothing is installed for the user, and the
kernelspec is removed after the run) in the notebook's folder. Each code cell is sent in order; its outputs are collected from IOPub by the
parent message id. Deno's kernel can report `idle` before the last outputs of a cell arrive, so
after `idle` the runner keeps reading until IOPub has been quiet for a while. The executed notebook
(and an HTML copy with --html) is written to DIR even when a cell fails; the exit status is 1 when
a cell fails, the kernel dies, or a cell runs longer than --cell-timeout (then it is interrupted).
Checks of the outputs are tools/notebooks.ts's business.

With --twice, the code cells but the last run a second time in order after the first pass, as a
learner re-runs cells, before the last (which frees everything); before each cell's second run,
what the variables it declares held is freed (tools/_rerun.ts), as a re-run makes it unreachable.
The number of tensors TF.js holds after each pass is printed, and the exit status is 1 when the
second pass left more (or fewer) than the first: a function a cell calls leaks when called again.
The cell named is the one from which on the second pass held more (or fewer) than the first pass
ended with: the cell whose re-run made the difference.
The executed notebook then holds the outputs of the second pass.
"""
import argparse
import atexit
import json
import os
import queue
import re
import shutil
import sys
import tempfile
import time

import nbformat
from jupyter_client.manager import KernelManager

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
QUIET_SECONDS = float(os.environ.get("SIGNS_IOPUB_QUIET", "1.0"))
INTERRUPT_GRACE = 10.0


def make_kernelspec(deno: str) -> str:
    root = tempfile.mkdtemp(prefix="signs-kernel-")
    spec_dir = os.path.join(root, "kernels", "signs-deno")
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({
            "argv": [deno, "jupyter", "--kernel", "--conn", "{connection_file}"],
            "display_name": "Deno (headless)",
            "language": "typescript",
        }, f)
    return root


class CellRun:
    def __init__(self, cell):
        self.cell = cell
        self.outputs = []
        self.display_index = {}  # display_id -> list of outputs carrying it
        self.clear_pending = False
        self.idle = False
        self.error = None

    def add(self, output, display_id=None):
        if self.clear_pending:
            self.outputs.clear()
            self.clear_pending = False
        if output["output_type"] == "stream" and self.outputs and \
                self.outputs[-1]["output_type"] == "stream" and self.outputs[-1]["name"] == output["name"]:
            self.outputs[-1]["text"] += output["text"]
            return
        self.outputs.append(output)
        if display_id:
            self.display_index.setdefault(display_id, []).append(output)


def handle(run_by_msg, msg, displays):
    parent = msg.get("parent_header", {}).get("msg_id")
    run = run_by_msg.get(parent)
    kind = msg["msg_type"]
    content = msg["content"]
    if kind == "update_display_data":
        for output in displays.get(content.get("transient", {}).get("display_id"), []):
            output["data"] = content["data"]
            output["metadata"] = content.get("metadata", {})
        return
    if run is None:
        return
    if kind == "status":
        if content["execution_state"] == "idle":
            run.idle = True
    elif kind == "execute_input":
        run.cell["execution_count"] = content.get("execution_count")
    elif kind == "stream":
        run.add(nbformat.v4.new_output("stream", name=content["name"], text=ANSI.sub("", content["text"])))
    elif kind in ("display_data", "execute_result"):
        if kind == "execute_result":
            output = nbformat.v4.new_output("execute_result", data=content["data"],
                                            metadata=content.get("metadata", {}),
                                            execution_count=content.get("execution_count"))
        else:
            output = nbformat.v4.new_output("display_data", data=content["data"],
                                            metadata=content.get("metadata", {}))
        display_id = content.get("transient", {}).get("display_id")
        run.add(output, display_id)
        if display_id:
            displays.setdefault(display_id, []).append(output)
    elif kind == "clear_output":
        if content.get("wait"):
            run.clear_pending = True
        else:
            run.outputs.clear()
    elif kind == "error":
        traceback = [ANSI.sub("", line) for line in content.get("traceback", [])]
        run.add(nbformat.v4.new_output("error", ename=content["ename"], evalue=ANSI.sub("", content["evalue"]),
                                       traceback=traceback))
        run.error = content


def drain(kc, run_by_msg, displays, until, quiet):
    """Reads IOPub until `until()` holds and nothing has arrived for `quiet` seconds."""
    last = time.monotonic()
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=0.1)
            handle(run_by_msg, msg, displays)
            last = time.monotonic()
        except queue.Empty:
            if until() and time.monotonic() - last >= quiet:
                return


def wait_for_reply(kc, km, runs, displays, msg_id, t0, cell_timeout):
    """The kernel's execute_reply to msg_id, reading IOPub meanwhile; returns (reply, problem).

    A cell that runs past cell_timeout seconds (0: no limit) is interrupted; if it then does not
    answer within INTERRUPT_GRACE seconds, or the kernel dies, there is no reply.
    """
    interrupted_at = None
    while True:
        drain(kc, runs, displays, lambda: True, 0)
        try:
            candidate = kc.get_shell_msg(timeout=0.2)
            if candidate["parent_header"].get("msg_id") == msg_id:
                if interrupted_at is not None:
                    drain(kc, runs, displays, lambda: True, QUIET_SECONDS)
                    return candidate, f"it ran past {cell_timeout:.0f}s and was interrupted"
                return candidate, None
        except queue.Empty:
            pass
        if not km.is_alive():
            drain(kc, runs, displays, lambda: True, 0)
            if interrupted_at is not None:
                return None, f"it ran past {cell_timeout:.0f}s; interrupted, the kernel stopped"
            return None, "the kernel died"
        now = time.monotonic()
        if interrupted_at is None and cell_timeout and now - t0 > cell_timeout:
            print(f"cell ran past {cell_timeout:.0f}s: interrupting it", file=sys.stderr, flush=True)
            km.interrupt_kernel()
            interrupted_at = now
        elif interrupted_at is not None and now - interrupted_at > INTERRUPT_GRACE:
            drain(kc, runs, displays, lambda: True, QUIET_SECONDS)
            return None, f"it ran past {cell_timeout:.0f}s and did not stop when interrupted"


DECLARED = re.compile(r"^(?:const|let|var)\s+(?:(\w+)|\{([^}]*)\}|\[([^\]]*)\])", re.M)


def declared_names(source):
    """The names a cell declares at its top level (`const x`, `let { a, b }`, `const [c, d]`)."""
    names = []
    for single, obj, arr in DECLARED.findall(source):
        if single:
            names.append(single)
        for part in (obj or arr).split(","):
            name = part.split(":")[-1].split("=")[0].strip().lstrip(".")
            if re.fullmatch(r"\w+", name):
                names.append(name)
    return names


def output_text(outputs):
    """The text of a cell's result (or, without one, of what it printed)."""
    for output in outputs:
        if output["output_type"] == "execute_result":
            return ANSI.sub("", output["data"].get("text/plain", ""))
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


def leaking_cell(second_pass, first_count):
    """The cell of the second pass (number, cell) from which on the tensor count stayed on the
    side of the first pass's count where the pass ended: the one whose re-run gained (or freed)
    the tensors that make the difference. `second_pass` holds [number, cell, count after it]."""
    last = second_pass[-1][2]
    side = (lambda count: count > first_count) if last > first_count else (
        lambda count: count < first_count)
    found = second_pass[-1]
    for entry in reversed(second_pass):
        if not side(entry[2]):
            break
        found = entry
    return found[0], found[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("--deno", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--cell-timeout", type=float, default=0, help="seconds; 0 for no limit")
    parser.add_argument("--startup-timeout", type=float, default=120)
    parser.add_argument("--twice", action="store_true",
                        help="run the code cells but the last twice, checking the tensor count")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    name = os.path.splitext(os.path.basename(args.notebook))[0]
    os.makedirs(args.out, exist_ok=True)
    kernelspec = make_kernelspec(args.deno)
    atexit.register(shutil.rmtree, kernelspec, True)  # also when the kernel fails to start
    os.environ["JUPYTER_PATH"] = kernelspec
    env = dict(os.environ, NO_COLOR="1")
    km = KernelManager(kernel_name="signs-deno")
    km.start_kernel(cwd=os.path.dirname(os.path.abspath(args.notebook)), env=env)
    kc = km.client()
    kc.start_channels()
    failed = None
    started = time.monotonic()
    try:
        kc.wait_for_ready(timeout=args.startup_timeout)
        runs = {}
        displays = {}
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        rerun = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_rerun.ts")
        helper = f"(await import({json.dumps('file://' + rerun)}))"
        steps = [(n, c, None) for n, c in enumerate(code_cells, 1)]
        if args.twice:
            counts = f"{helper}.tensorCount()"
            first, last = steps[:-1], steps[-1:]
            second = []
            for number, cell, _ in first:
                names = declared_names(cell.source)
                free = " ".join(f"typeof {n} === 'undefined' ? undefined : {n}," for n in names)
                second.append((number, cell, f"{helper}.countThenFree([{free}])"))
            steps = first + [(None, None, counts)] + second + [(None, None, counts)] + last
        tensor_counts = []
        # The second pass's cells, each with the tensor count after it ran (the count before the
        # next cell's variables are freed, or the pass's last count).
        second_pass = []

        def execute(cell):
            cell.outputs = []
            run = CellRun(cell)
            t0 = time.monotonic()
            msg_id = kc.execute(cell.source, store_history=True, allow_stdin=False)
            runs[msg_id] = run
            reply, problem = wait_for_reply(kc, km, runs, displays, msg_id, t0, args.cell_timeout)
            # After the reply, outputs may still come: read until the kernel is idle and quiet.
            if problem is None:
                drain(kc, runs, displays, lambda: run.idle, QUIET_SECONDS)
            cell.outputs = run.outputs
            status = reply["content"]["status"] if reply else "failed"
            if problem is None and status != "ok":
                err = run.error or reply["content"]
                problem = f"{err.get('ename')}: {ANSI.sub('', str(err.get('evalue')))}"
            return status, problem, time.monotonic() - t0

        for number, cell, snippet in steps:
            if snippet is not None:
                helper_cell = nbformat.v4.new_code_cell(snippet)
                _, problem = execute(helper_cell)[:2]
                if problem is not None:
                    failed = (number, snippet, problem)
                    break
                count = int(output_text(helper_cell.outputs).strip())
                if second_pass:
                    second_pass[-1][2] = count
                if cell is None:
                    tensor_counts.append(count)
                    print(f"{name}: tensors after pass {len(tensor_counts)}: {count}", flush=True)
                    continue
                second_pass.append([number, cell, None])
            status, problem, seconds = execute(cell)
            print(f"{name}: cell {number}/{len(code_cells)} {status} ({seconds:.1f}s)", flush=True)
            if problem is not None:
                failed = (number, cell.source, problem)
                break
        if failed is None and len(tensor_counts) == 2 and tensor_counts[0] != tensor_counts[1]:
            number, cell = leaking_cell(second_pass, tensor_counts[0])
            more = tensor_counts[1] > tensor_counts[0]
            failed = (number, cell.source,
                      f"the second pass left {tensor_counts[1]} tensors, the first "
                      f"{tensor_counts[0]}; from this cell on, the second pass held "
                      + ("more: a function it calls leaks when called again" if more else
                         "fewer: a function it calls frees what an earlier cell still holds"))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    path = os.path.join(args.out, f"{name}.ipynb")
    nbformat.write(nb, path)
    print(f"{name}: wrote {path} ({time.monotonic() - started:.0f}s)")
    if args.html:
        from nbconvert import HTMLExporter
        html, _ = HTMLExporter().from_notebook_node(nb)
        html_path = os.path.join(args.out, f"{name}.html")
        with open(html_path, "w") as f:
            f.write(html)
        print(f"{name}: wrote {html_path}")
    if failed:
        number, source, message = failed
        print(f"\n{name}: cell {number} failed: {message}\n--- cell {number} ---\n{source}\n---", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
