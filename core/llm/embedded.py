"""The embedded llama.cpp server: started on a free loopback port, health-checked, stopped on exit."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.errors import LlmUnavailable
from core.llm.model_files import MODELS, ensure_model
from core.settings import Settings

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(model_path: Path, alias: str, port: int, settings: Settings) -> list[str]:
    # Flags measured best on 2 cores: without --logits_all false RSS grows to 3.8 GB and prompts slow down.
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path), "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_threads", str(settings.llm_threads), "--n_ctx", str(settings.llm_ctx),
        "--flash_attn", "true", "--logits_all", "false",
        "--chat_format", "chatml-function-calling", "--verbose", "false",
    ]


def endpoint_file(settings: Settings) -> Path:
    """Where a running embedded server says where it listens, so ``kam llm status`` asks it instead of
    starting a second one."""
    return settings.data_dir / "llm-server.json"


def running_endpoint(settings: Settings) -> dict[str, object] | None:
    """The embedded server another process of this data directory runs, if its process lives and answers."""
    try:
        info = json.loads(endpoint_file(settings).read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)  # no signal: only "does the process exist"
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if is_healthy(str(info["base_url"]), timeout=2.0) else None


def is_healthy(base_url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{base_url.rstrip('/')}/models", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


class EmbeddedServer:
    """``with EmbeddedServer(settings) as server: server.base_url``."""

    def __init__(self, settings: Settings, *, port: int | None = None) -> None:
        self.settings = settings
        self.spec = MODELS[settings.llm_embedded_model]
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = settings.data_dir / "llm-server.log"

    @property
    def model_alias(self) -> str:
        return self.spec.alias

    def start(self) -> EmbeddedServer:
        model_path = ensure_model(self.spec, self.settings.llm_model_cache, log=log.info)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = server_command(model_path, self.spec.alias, self.port, self.settings)
        log.info("starting embedded LLM server: %s", " ".join(command))
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + self.settings.llm_start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LlmUnavailable(f"embedded LLM server exited with code {self._process.returncode}; "
                                     f"see {self.log_path}")
            if is_healthy(self.base_url, timeout=1.0):
                log.info("embedded LLM server ready at %s", self.base_url)
                endpoint_file(self.settings).write_text(json.dumps(
                    {"base_url": self.base_url, "model": self.spec.alias, "pid": os.getpid(),
                     "server_pid": self._process.pid}), encoding="utf-8")
                return self
            time.sleep(0.25)
        self.stop()
        raise LlmUnavailable(f"embedded LLM server not healthy after {self.settings.llm_start_timeout_s:.0f}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        self._forget_endpoint(process.pid)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def _forget_endpoint(self, server_pid: int) -> None:
        path = endpoint_file(self.settings)
        with contextlib.suppress(OSError, ValueError):  # gone or garbled: nothing to forget
            if json.loads(path.read_text(encoding="utf-8")).get("server_pid") == server_pid:
                path.unlink()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
