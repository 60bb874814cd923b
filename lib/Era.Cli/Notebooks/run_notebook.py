"""Executes one .NET Interactive notebook on the real kernel, the pinned dotnet-interactive tool, through Jupyter's
own client library (nbclient). Called by Era.Notebooks.NotebookRunner (`./era notebooks run`), not by hand:

    /usr/bin/python3 run_notebook.py IN OUT RESULT --cwd DIR --timeout SECONDS --kernel-log FILE
        --kernel-name NAME --kernel-dir DIR --metadata JSON [--watch-stdin]

Starts the kernel through the installed kernelspec NAME (Jupyter must find it in DIR, where `era setup` put it), sets
the notebook metadata JSON (kernelspec, language_info), writes the executed notebook to OUT and {"ok": true} to
RESULT; on a failing or timed-out cell writes nothing to OUT and {"ok": false, "cell": N (1-based), "message": "..."}
to RESULT. Exit code 0 either way; 2 on a setup error.
On SIGHUP, SIGTERM or SIGINT, or (--watch-stdin) when the caller's end of stdin closes, the kernel ends with it.
"""
import argparse, json, os, shutil, signal, subprocess, sys, threading, time

import zmq

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

# The kernel's Jupyter adapter puts a script that loads its JavaScript API (require.js from a CDN, then the kernel's
# local HTTP port) into the first cell's outputs. It means nothing once the kernel has exited: dropped.
BOOTSTRAP_MARKER = "dotnet-interactive-this-cell"
# Stream text kept per cell (characters; $ERA_STREAM_CAP for tests); beyond it the output is cut, and the notebook
# and the terminal say so.
STREAM_CAP = int(os.environ.get("ERA_STREAM_CAP") or 16 * 2**20)


def is_kernel_chatter(output):
    """What the kernel says about itself rather than the cell: its JavaScript loader, the "Installed Packages" list
    of a `#r "nuget: …"` and its "Loading extensions from `<the NuGet cache's absolute path>`" lines. None of it is
    the course's, and the paths are the machine's: kept out of executed notebooks (and so out of the handouts)."""
    data = output.get("data", {})
    joined = lambda v: "".join(v) if isinstance(v, list) else str(v)   # a saved notebook may hold a list of lines
    html, text = joined(data.get("text/html", "")), joined(data.get("text/plain", ""))
    return (BOOTSTRAP_MARKER in html or "<strong>Installed Packages</strong>" in html
            or (not html and text.startswith("Loading extension")))


class DotnetInteractiveClient(NotebookClient):
    """nbclient, plus one fix for the kernel (Microsoft.dotnet-interactive 1.0.712001): `display(x).Update(y)` is
    sent as update_display_data under an id that is not the one its display_data carried. An update with an id
    never seen is bound to the latest display of the same mime types that no other id has claimed yet."""

    def _update_display_id(self, display_id, msg):
        # nbclient calls this for every message that carries a display id; only a true update is rebound.
        if msg["header"]["msg_type"] == "update_display_data" and display_id not in self._display_id_map:
            keys = set(msg["content"].get("data", {}))
            claimed = getattr(self, "_claimed", set())
            candidates = []
            for original, cells in self._display_id_map.items():
                if original in claimed:
                    continue
                for cell_idx, indices in cells.items():
                    outputs = self.nb.cells[cell_idx].outputs
                    for i in indices:
                        if i < len(outputs) and set(outputs[i].get("data", {})) == keys:
                            candidates.append(((cell_idx, i), original))
            if candidates:
                _, original = max(candidates)
                claimed.add(original)
                self._claimed = claimed
                self._display_id_map[display_id] = self._display_id_map[original]
        super()._update_display_id(display_id, msg)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        make_client = km.client

        def client(**kwargs):
            kc = make_client(**kwargs)
            # IOPub is PUB/SUB: when the client's queue holds 1,000 messages (ZeroMQ's default high-water mark) the
            # kernel's side drops the next ones without a word, the cell's idle status among them. No limit on the
            # queue (set before the channels' sockets exist); STREAM_CAP bounds what is kept instead.
            kc.context.setsockopt(zmq.RCVHWM, 0)
            return kc
        km.client = client
        return km

    def output(self, outs, msg, display_id, cell_index):
        """Consecutive stream messages of one name become one output, as Jupyter shows them (chunks in a list until
        the cell ends: joining a growing string per message would be quadratic)."""
        if msg["msg_type"] != "stream" or self.output_hook_stack[msg["parent_header"].get("msg_id")]:
            return super().output(outs, msg, display_id, cell_index)
        text = msg["content"]["text"]
        kept = self.stream_kept.get(cell_index, 0)
        room = max(0, STREAM_CAP - kept)
        if len(text) > room:
            self.stream_cut[cell_index] = self.stream_cut.get(cell_index, 0) + len(text) - room
            text = text[:room]
        self.stream_kept[cell_index] = kept + len(text)
        last = outs[-1] if outs else None
        if last is not None and last.get("output_type") == "stream" and last.get("name") == msg["content"]["name"]:
            last["text"].append(text)
            return last
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            out["text"] = [text]
        return out

    def finish_streams(self, cell, cell_index):
        """Joins the chunks; a cut output ends with a line saying how much was left out."""
        cut = self.stream_cut.get(cell_index)
        streams = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream" and isinstance(o.get("text"), list)]
        for o in streams:
            o["text"] = "".join(o["text"])
        if cut and streams:
            streams[-1]["text"] += f"\n[era: output cut at {STREAM_CAP:,} characters; {cut:,} more were not kept]\n"
        return cut


def end_group(pgid, sig, tries):
    """Sends sig to the process group, then waits up to tries x 50 ms for it to be gone; True if it is still there."""
    try:
        os.killpg(pgid, sig)
        for _ in range(tries):
            try:
                os.waitpid(-pgid, os.WNOHANG)  # the kernel is our child: reaped, not left a zombie
            except ChildProcessError:
                pass
            os.killpg(pgid, 0)
            time.sleep(0.05)
    except OSError:
        return False
    return True


def end_kernel_with_driver(state, watch_stdin):
    """SIGHUP (the terminal closed), SIGTERM, SIGINT, or the caller gone (its end of stdin closed): the kernel's
    process group (jupyter_client starts the kernel in its own session, so no signal to ours reaches it) gets
    SIGTERM, 5 s to exit and remove its files, then SIGKILL; its connection file and the kernelspec folder are
    removed; then the driver exits."""
    def stop(signum, _frame=None):
        km = getattr(state.get("client"), "km", None)
        pgid = getattr(getattr(km, "provisioner", None), "pgid", None)
        if pgid and end_group(pgid, signal.SIGTERM, 100):
            end_group(pgid, signal.SIGKILL, 100)
        if km is not None:
            try:
                km.cleanup_connection_file()
            except Exception:
                pass
        if state.get("specs"):
            shutil.rmtree(state["specs"], ignore_errors=True)
        os._exit(128 + signum)

    for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, stop)
    if watch_stdin:
        def watch():
            while os.read(0, 4096):  # os.read: no lock of sys.stdin's to hold at interpreter shutdown
                pass
            stop(signal.SIGTERM)
        threading.Thread(target=watch, daemon=True).start()


def describe(error, cell):
    """One line: the error, with the compiler's diagnostics that the kernel sends beside it (C# errors)."""
    parts = [" ".join(str(error.evalue).split())]
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            parts.append(" ".join(o.get("text", "").split()))
        elif o.get("output_type") == "error":
            parts.extend(" ".join(str(line).split()) for line in o.get("traceback", [])[:3])
    seen = []
    for p in parts:
        if p and p not in seen:
            seen.append(p)
    return " | ".join(seen)[:2000]


def installed_kernelspec(name, folder):
    """The kernelspec Jupyter itself finds under this name: it must be the one `era setup` installed in folder."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise RuntimeError(f"Jupyter finds no kernelspec {name} (`./era setup` installs it in {folder})")
    if os.path.realpath(spec.resource_dir) != os.path.realpath(folder):
        raise RuntimeError(f"Jupyter finds the kernelspec {name} in {spec.resource_dir}, before {folder} (JUPYTER_PATH?)")


def why_it_died(kernel_log):
    """The runtime's last words in the kernel's log ("Stack overflow.", an unhandled exception), read line by line."""
    with open(kernel_log, errors="replace") as f:
        for line in f:
            if line.startswith(("Stack overflow", "Unhandled exception", "Out of memory", "Fatal error")):
                return f" ({line.strip()[:300]})"
    return ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input"); p.add_argument("output"); p.add_argument("result")
    p.add_argument("--cwd", required=True); p.add_argument("--timeout", type=int, required=True)
    p.add_argument("--kernel-log", required=True)
    p.add_argument("--kernel-name", required=True); p.add_argument("--kernel-dir", required=True)
    p.add_argument("--metadata", required=True)
    p.add_argument("--watch-stdin", action="store_true")
    a = p.parse_args()
    state = {}
    end_kernel_with_driver(state, a.watch_stdin)

    def result(**r):
        with open(a.result, "w") as f:
            json.dump(r, f)

    nb = nbformat.read(a.input, as_version=4)
    installed_kernelspec(a.kernel_name, a.kernel_dir)
    with open(a.kernel_log, "w") as log:
        client = DotnetInteractiveClient(
            nb, timeout=a.timeout, kernel_name=a.kernel_name, resources={"metadata": {"path": a.cwd}},
            allow_errors=False, interrupt_on_timeout=False, record_timing=False, startup_timeout=180,
            # after the execute_reply, wait for every output until the kernel is idle, and never drop them silently
            iopub_timeout=a.timeout, raise_on_iopub_timeout=True)
        client.stream_kept, client.stream_cut = {}, {}
        state["client"] = client
        cut = []
        code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=log):
            for i, cell in enumerate(nb.cells):
                try:
                    client.execute_cell(cell, i)
                    if client.finish_streams(cell, i):
                        cut.append(i + 1)
                except CellTimeoutError:
                    return result(ok=False, cell=i + 1, message=f"timed out after {a.timeout} s (stopped)")
                except DeadKernelError as e:
                    return result(ok=False, cell=i + 1, message=f"the kernel died: {e}{why_it_died(a.kernel_log)}")
                except CellExecutionError as e:
                    client.finish_streams(cell, i)
                    return result(ok=False, cell=i + 1, message=describe(e, cell))
    nb.metadata.update(json.loads(a.metadata))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_kernel_chatter(o)]
            for o in cell.outputs:
                o.pop("transient", None)
    nbformat.validate(nb)
    nbformat.write(nb, a.output)
    result(ok=True, cells=len(nb.cells), code_cells=len(code_cells), cut=cut)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a setup error: the caller reports this line
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
