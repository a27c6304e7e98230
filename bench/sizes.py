"""Sizes on disk: each model file, the bundle folder (and what fills it), the extension zips."""

from __future__ import annotations

from pathlib import Path

MB = 1_000_000


def folder_size(folder: Path, top: int = 12) -> dict:
    """Total bytes of every file under `folder` (symlinks not followed), and the largest ones."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    sized = sorted(((p.stat().st_size, p) for p in files), key=lambda t: t[0], reverse=True)
    return {
        "path": str(folder),
        "bytes": sum(s for s, _ in sized),
        "files": len(sized),
        "largest": [{"file": str(p.relative_to(folder)), "bytes": s} for s, p in sized[:top]],
    }


def file_sizes(paths: list[Path]) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(paths) if p.is_file()}


def measure(repo: Path, bundle_dir: Path) -> dict:
    """Whatever of models/, the bundle and the zips exists; a missing part is reported as such."""
    models = repo / "models"
    dist = repo / "dist"
    out: dict = {
        "models": file_sizes([*models.glob("*.tflite"), models / "models.json"]),
        "zips": file_sizes(list(dist.glob("*.zip"))) if dist.is_dir() else {},
    }
    out["bundle"] = folder_size(bundle_dir) if bundle_dir.is_dir() else None
    return out
