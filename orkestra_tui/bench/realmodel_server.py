"""Serve a GGUF model on 127.0.0.1 through llama.cpp's OpenAI-compatible server (xllamacpp).

Run by the real-model measurement (`orkestra_tui.bench.realmodel`) with the
runtime's own interpreter, which has xllamacpp but not Orkestra, so this file
imports nothing but the standard library and xllamacpp:

    .venv-llm/bin/python orkestra_tui/bench/realmodel_server.py --model M.gguf --alias NAME

It prints one JSON line, `{"url": "http://127.0.0.1:PORT"}`, once the model is
loaded and the server listens, then serves until its standard input closes
(or SIGTERM), so the server never outlives the process that started it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import threading
from typing import Any


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", required=True, help="the .gguf file")
    parser.add_argument("--alias", required=True, help="the model id the server answers to")
    parser.add_argument("--port", type=int, default=0, help="0 for any free port")
    parser.add_argument("--context", type=int, default=8192, help="context window, in tokens")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for generation")
    return parser.parse_args(argv)


def serve(options: argparse.Namespace) -> None:
    xllamacpp: Any = importlib.import_module("xllamacpp")
    params = xllamacpp.CommonParams()
    params.model.path = options.model
    params.model_alias = {options.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = options.port
    params.n_ctx = options.context
    # One request at a time, like a small local server: a second one queues.
    params.n_parallel = 1
    params.sampling.seed = options.seed
    params.cpuparams.n_threads = options.threads
    params.cpuparams_batch.n_threads = options.threads
    # Extra buffer types (AMX repacking) crash llama.cpp on some CPUs that advertise AMX.
    params.no_extra_bufts = True
    server = xllamacpp.Server(params)
    print(json.dumps({"url": server.listening_address}), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signal, _frame: stopped.set())

    def wait_for_end_of_input() -> None:
        sys.stdin.read()
        stopped.set()

    threading.Thread(target=wait_for_end_of_input, daemon=True).start()
    stopped.wait()
    del server


if __name__ == "__main__":
    serve(arguments(sys.argv[1:]))
