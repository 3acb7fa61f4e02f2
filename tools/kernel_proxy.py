#!/usr/bin/python3
"""A Jupyter kernel that runs Deno's kernel behind it and hands it one cell at a time.

Usage: kernel_proxy.py --deno PATH [--quiet-ms MS] [--max-hold-ms MS] CONNECTION_FILE

`deno task kernel` installs this as the kernel specification of the notebooks. The front end
(Jupyter, VS Code) connects to the sockets of CONNECTION_FILE; the proxy starts
`deno jupyter --kernel --conn FILE` with a connection file of its own, passed through a pipe (new
loopback ports, the same key and signature scheme, so messages pass on as they are, signatures
included), and relays the messages of every channel between the two.

Why: Deno 2.9.6's kernel stamps every output that reaches its IOPub publisher with the parent header
of the newest execute_request it has read. When a front end sends requests back to back (Run All),
an output that is still on its way when the next request arrives (often a cell's value, sometimes a
printed line or a table) is filed under the next cell. Deno also reports a cell idle before its last
outputs have left, and front ends stop listening to a cell once it is idle and answered.

So the proxy keeps execute requests in a queue and forwards the next one only when the previous one
has settled: its execute_reply has come, its `idle` status has come, and IOPub has then been quiet
for --quiet-ms (or --max-hold-ms have passed since the reply and `idle`, for a cell that leaves
something printing in the background). The `idle` status itself is held back until then, so that
outputs arriving late still reach a front end that is listening for them. Any other shell message
that arrives while an execute request waits in the queue keeps its place behind it, as a kernel that
reads its shell channel in order would treat it; kernel_info_request goes to Deno at once instead
(it asks nothing of the cells, and front ends send it to see whether the kernel is alive).

When a cell fails or is interrupted, the execute requests still in the queue are answered
`aborted` without running, as the protocol's stop_on_error asks (front ends send it, true by
default) and as Jupyter's Python kernel does: a Stop or an error ends a Run All there, instead of
the next cells running into the missing results. Deno's kernel alone runs them all.

Everything else passes through as it is: control (interrupt_request, shutdown_request with or
without restart), stdin (input_request from `prompt()` and `confirm()` goes to the front end whose
cell is running; its input_reply comes back), comms, and display updates, which are IOPub messages
like any other. Deno's kernel sends replies without the front end's routing identities, so the
proxy remembers them by request id. Heartbeats are answered here; when Deno's kernel exits, the
proxy exits with its status, so a front end sees a dead kernel as dead; when the process that started
the proxy (JPY_PARENT_PID) has gone, or on SIGTERM, the proxy stops Deno's kernel and exits.

Interrupts: the kernel specification asks for interrupt_request messages (interrupt_mode
"message"). A SIGINT sent to the proxy (front ends that signal anyway) becomes an
interrupt_request too; Deno's kernel runs in a process group of its own, because a SIGINT would end
it rather than interrupt the cell.

With SIGNS_KERNEL_PROXY_LOG=FILE in its environment the proxy appends one JSON line per cell to FILE:
when the reply and `idle` came after the request was forwarded, the last output after both, and
how long the cell was held in all (milliseconds), for measuring what --quiet-ms needs.

Python: Debian's /usr/bin/python3 with python3-zmq and python3-jupyter-client (or any Python with
pyzmq and jupyter_client).
"""
import argparse
import collections
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time

import zmq
from jupyter_client.session import Session

DELIMITER = b"<IDS|MSG>"


def log(message):
    print(f"kernel_proxy: {message}", file=sys.stderr, flush=True)


class Message:
    """A multipart message as it travels: routing identities, then the signed frames."""

    def __init__(self, frames):
        split = frames.index(DELIMITER)
        self.identities = frames[:split]
        self.frames = frames[split:]  # delimiter, signature, header, parent, metadata, content, buffers
        self.header = json.loads(self.frames[2])
        self._parent = None
        self._content = None

    @property
    def msg_type(self):
        return self.header.get("msg_type")

    @property
    def msg_id(self):
        return self.header.get("msg_id")

    @property
    def parent_id(self):
        if self._parent is None:
            self._parent = json.loads(self.frames[3])
        return self._parent.get("msg_id")

    @property
    def content(self):
        if self._content is None:
            self._content = json.loads(self.frames[5])
        return self._content


def address(info, port):
    if info.get("transport", "tcp") == "ipc":
        return f"ipc://{info['ip']}-{port}"
    return f"tcp://{info['ip']}:{port}"


def free_ports(count):
    """Loopback ports that are free now, as Jupyter picks them for a kernel's connection file."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def die_with_parent():
    """In Deno's process: its own process group, and SIGTERM when the proxy ends."""
    os.setsid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Proxy:
    def __init__(self, front_info, deno, quiet, max_hold):
        self.quiet = quiet
        self.max_hold = max_hold
        self.context = zmq.Context()
        key = front_info.get("key", "")
        scheme = front_info.get("signature_scheme", "hmac-sha256")
        self.session = Session(key=key.encode(), signature_scheme=scheme, username="kernel_proxy")

        # Deno reads its connection file once, at start: it gets it through a pipe, so that no
        # file is left behind however the proxy ends.
        ports = free_ports(5)
        back_info = dict(zip(["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"], ports),
                         ip="127.0.0.1", transport="tcp", key=key, signature_scheme=scheme)
        read_end, write_end = os.pipe()
        with os.fdopen(write_end, "w") as f:
            json.dump(back_info, f)
        self.deno = subprocess.Popen([deno, "jupyter", "--kernel", "--conn", f"/dev/fd/{read_end}"],
                                     pass_fds=(read_end,), preexec_fn=die_with_parent)
        os.close(read_end)

        def bind(kind, port):
            socket = self.context.socket(kind)
            socket.linger = 1000
            socket.bind(address(front_info, front_info[port]))
            return socket

        def connect(kind, port):
            socket = self.context.socket(kind)
            socket.linger = 1000
            socket.connect(address(back_info, back_info[port]))
            return socket

        self.front = {name: bind(zmq.ROUTER, f"{name}_port") for name in ("shell", "control", "stdin")}
        self.front["iopub"] = bind(zmq.PUB, "iopub_port")
        self.back = {name: connect(zmq.DEALER, f"{name}_port") for name in ("shell", "control", "stdin")}
        self.back["iopub"] = connect(zmq.SUB, "iopub_port")
        self.back["iopub"].setsockopt(zmq.SUBSCRIBE, b"")
        self.heartbeat = bind(zmq.REP, "hb_port")

        self.routes = {}  # request msg_id -> routing identities of the front end that sent it
        self.queue = collections.deque()  # shell messages waiting for the running cell to settle
        self.running = None  # the execute_request Deno is working on
        self.reply_at = None  # when its execute_reply came
        self.idle = None  # its `idle` status, held back until it settles
        self.last_iopub = 0.0
        self.interrupt_pending = False
        self.stopping = False
        # Jupyter names the process that started the kernel; when it is gone, so is the kernel.
        parent = os.environ.get("JPY_PARENT_PID", "")
        self.parent_pid = int(parent) if parent.isdigit() else None
        self.forwarded_at = None
        self.last_output = None  # the running cell's last IOPub output after its reply and idle
        log_file = os.environ.get("SIGNS_KERNEL_PROXY_LOG")
        self.log_file = open(log_file, "a") if log_file else None

    # --- the front end to Deno ---------------------------------------------------------------

    def from_front_shell(self, message):
        self.routes[message.msg_id] = message.identities
        if message.msg_type == "kernel_info_request":
            self.back["shell"].send_multipart(message.frames)
            return
        self.queue.append(message)
        self.pump()

    def pump(self):
        """Forwards queued shell messages up to the next execute_request Deno cannot take yet."""
        while self.queue:
            message = self.queue[0]
            if message.msg_type == "execute_request":
                if self.running is not None:
                    return
                self.running = message
                self.reply_at = None
                self.idle = None
                self.forwarded_at = time.monotonic()
                self.last_output = None
            self.queue.popleft()
            self.back["shell"].send_multipart(message.frames)

    def from_front(self, channel, message):
        self.routes[message.msg_id] = message.identities
        self.back[channel].send_multipart(message.frames)

    # --- Deno to the front end ---------------------------------------------------------------

    def from_back(self, channel, message):
        if channel == "stdin":
            # Deno's input_request carries no identities; it belongs to the running cell, whose
            # route stays for its execute_reply.
            identities = self.running.identities if self.running is not None else None
        else:
            identities = self.routes.pop(message.parent_id, None)
        if identities is None:
            return  # the reply to an interrupt_request of the proxy's own, or of a forgotten request
        self.front[channel].send_multipart(identities + message.frames)
        if channel == "shell" and self.running is not None and message.parent_id == self.running.msg_id:
            self.reply_at = time.monotonic()
            if message.content.get("status") != "ok" and self.running.content.get("stop_on_error", True):
                self.abort_queued()

    def abort_queued(self):
        """After a cell failed or was interrupted: the queued cells are answered `aborted`.

        This is what the protocol's stop_on_error asks (front ends set it, and it defaults to true),
        and what Jupyter's Python kernel does; Deno's kernel ignores it and runs the rest of a
        Run All after an error or a Stop.
        """
        kept = collections.deque()
        for message in self.queue:
            if message.msg_type != "execute_request":
                kept.append(message)
                continue
            identities = self.routes.pop(message.msg_id, [])
            parent = {"header": message.header}
            self.session.send(self.front["iopub"], "status", {"execution_state": "busy"}, parent=parent)
            self.session.send(self.front["shell"], "execute_reply", {"status": "aborted"},
                              parent=parent, ident=identities)
            self.session.send(self.front["iopub"], "status", {"execution_state": "idle"}, parent=parent)
        self.queue = kept

    def from_back_iopub(self, message):
        self.last_iopub = time.monotonic()
        if self.idle is not None and self.reply_at is not None and message.msg_type != "status":
            self.last_output = self.last_iopub
        if (self.running is not None and message.msg_type == "status"
                and message.parent_id == self.running.msg_id
                and message.content.get("execution_state") == "idle"):
            self.idle = (message, self.last_iopub)
            return
        self.front["iopub"].send_multipart(message.identities + message.frames)

    def settle(self, now):
        """Releases the running cell's `idle` once its outputs have stopped; returns the next wait."""
        if self.running is None or self.reply_at is None or self.idle is None:
            return None
        held_since = max(self.reply_at, self.idle[1])
        if now - self.last_iopub < self.quiet and now - held_since < self.max_hold:
            return min(self.quiet - (now - self.last_iopub), self.max_hold - (now - held_since))
        message = self.idle[0]
        self.front["iopub"].send_multipart(message.identities + message.frames)
        if self.log_file:
            ms = lambda t: None if t is None else round((t - self.forwarded_at) * 1000, 1)
            self.log_file.write(json.dumps({
                "replyMs": ms(self.reply_at), "idleMs": ms(self.idle[1]),
                "lateOutputMs": ms(self.last_output), "releasedMs": ms(now),
            }) + "\n")
            self.log_file.flush()
        self.running = None
        self.idle = None
        self.pump()
        return None

    def interrupt(self):
        self.session.send(self.back["control"], "interrupt_request", {})

    # --- the loop ----------------------------------------------------------------------------

    def run(self):
        poller = zmq.Poller()
        sockets = {}
        for side, table in (("front", self.front), ("back", self.back)):
            for channel, socket in table.items():
                if (side, channel) != ("front", "iopub"):
                    poller.register(socket, zmq.POLLIN)
                    sockets[socket] = (side, channel)
        poller.register(self.heartbeat, zmq.POLLIN)
        wait = None
        while not self.stopping:
            if self.interrupt_pending:
                self.interrupt_pending = False
                self.interrupt()
            timeout = 200 if wait is None else max(1, int(wait * 1000) + 1)
            for socket, _ in poller.poll(timeout):
                if socket is self.heartbeat:
                    socket.send_multipart(socket.recv_multipart())
                    continue
                side, channel = sockets[socket]
                try:
                    message = Message(socket.recv_multipart())
                except (ValueError, json.JSONDecodeError):
                    log(f"dropped a malformed message on {side} {channel}")
                    continue
                if side == "front":
                    if channel == "shell":
                        self.from_front_shell(message)
                    else:
                        self.from_front(channel, message)
                elif channel == "iopub":
                    self.from_back_iopub(message)
                else:
                    self.from_back(channel, message)
            wait = self.settle(time.monotonic())
            status = self.deno.poll()
            if status is not None:
                self.drain()
                return status
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log("the front end that started this kernel has gone; stopping")
                return 0
        return 128 + signal.SIGTERM

    def drain(self):
        """Forwards what Deno sent before it exited (its last outputs, a shutdown_reply)."""
        for channel in ("iopub", "shell", "control"):
            socket = self.back[channel]
            while socket.poll(50):
                message = Message(socket.recv_multipart())
                if channel == "iopub":
                    self.front["iopub"].send_multipart(message.identities + message.frames)
                else:
                    self.from_back(channel, message)
        if self.idle is not None:
            self.front["iopub"].send_multipart(self.idle[0].identities + self.idle[0].frames)

    def stop(self):
        if self.deno.poll() is None:
            self.deno.terminate()
            try:
                self.deno.wait(5)
            except subprocess.TimeoutExpired:
                self.deno.kill()
        for socket in [*self.front.values(), *self.back.values(), self.heartbeat]:
            socket.close(linger=200)
        self.context.term()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("connection_file")
    parser.add_argument("--deno", required=True, help="the deno binary that runs the kernel")
    parser.add_argument("--quiet-ms", type=float, default=50,
                        help="IOPub silence after a cell's reply and idle before the next cell goes")
    parser.add_argument("--max-hold-ms", type=float, default=2000,
                        help="the longest a cell's idle is held for outputs that keep coming")
    args = parser.parse_args()
    with open(args.connection_file) as f:
        front_info = json.load(f)
    proxy = Proxy(front_info, args.deno, args.quiet_ms / 1000, args.max_hold_ms / 1000)

    def on_sigint(signum, frame):
        proxy.interrupt_pending = True

    def on_sigterm(signum, frame):
        proxy.stopping = True

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        status = proxy.run()
    finally:
        proxy.stop()
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
