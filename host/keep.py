"""The `keep` action: labeled captchas from the user's own logins, stored for retraining.

Layout (what `python -m training --data` reads; see docs/TRAINING.md):

    <folder>/ais6/012345.png         answers the user typed (or corrected) and AIS accepted
    <folder>/ais6/012345_01.png      another rendering of the same answer
    <folder>/ais3/507.png
    <folder>/helper/ais6/...         answers the helper filled and AIS accepted (the model's
    <folder>/helper/ais3/...         own labels: kept apart, trained on only if asked)

The folder is paths.captchas_dir(), beside the installed application, never inside it, so
installing or uninstalling the app leaves it alone. Only PNGs pass: each image is decoded
(host/imageio.py), must be exactly the kind's size, and is written re-encoded from its pixels
(no chunk of the caller's file survives), under a name made of the validated answer. Writes
are atomic (an O_EXCL temporary file, then a link or rename that never replaces a file), the
count is bounded (limits.MAX_KEPT_FILES), and delete removes only files of our own names in
our own subfolders.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from host import imageio, limits
from host.errors import Code, HostError
from host.kinds import KINDS, Kind
from host.protocol import HELPER, SOURCES, USER

_NAME = re.compile(r"^([0-9]+)(?:_([0-9]{2}))?\.png$")  # what we write
_TEMP = re.compile(r"^\.keep-[0-9a-f]{16}\.png\.tmp$")  # what we write first


def subfolder(root: Path, source: str, kind: str) -> Path:
    """Where one source's captchas of one kind live."""
    return root / kind if source == USER else root / HELPER / kind


def file_name(answer: str, rendering: int) -> str:
    """`012345.png` for the first rendering of an answer, `012345_01.png` for the second..."""
    return f"{answer}.png" if rendering == 0 else f"{answer}_{rendering:02d}.png"


def encode(rgb: np.ndarray) -> bytes:
    """The PNG we write: the decoded pixels only, RGB."""
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _ours(folder: Path) -> list[Path]:
    """The regular files of our names in `folder` (nothing if it is not a real folder)."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    return [
        p
        for p in folder.iterdir()
        if (_NAME.match(p.name) or _TEMP.match(p.name)) and p.is_file() and not p.is_symlink()
    ]


class Keeper:
    """Stores, counts and deletes kept captchas under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def counts(self) -> dict[str, Any]:
        """The folder, how many are kept per source and kind, and the limit (for `status`)."""
        counts = {
            source: {kind: len(self._kept(subfolder(self.root, source, kind))) for kind in KINDS}
            for source in SOURCES
        }
        total = sum(sum(by_kind.values()) for by_kind in counts.values())
        return {"folder": str(self.root), **counts, "total": total, "limit": limits.MAX_KEPT_FILES}

    def keep(self, kind: Kind, answer: str, source: str, image: str) -> dict[str, Any]:
        """Validate and store one captcha; the `keep` result. HostError on any refusal."""
        rgb = imageio.decode_png(imageio.decode_base64(image))
        if rgb.shape[:2] != (kind.height, kind.width):
            raise HostError(
                Code.BAD_SIZE,
                f"a {kind.name} captcha is {kind.width}x{kind.height},"
                f" not {rgb.shape[1]}x{rgb.shape[0]}",
            )
        if self.counts()["total"] >= limits.MAX_KEPT_FILES:
            raise HostError(
                Code.KEEP_FULL,
                f"{limits.MAX_KEPT_FILES} captchas are kept already; delete them to keep more",
            )
        folder = subfolder(self.root, source, kind.name)
        self._make(folder)
        data = encode(rgb)
        taken = set()
        for path in _ours(folder):
            match = _NAME.match(path.name)
            if match and match.group(1) == answer:
                taken.add(path.name)
                if self._same(path, rgb):
                    return self._result(False, folder / path.name, duplicate=True)
        for rendering in range(limits.MAX_KEPT_RENDERINGS):
            name = file_name(answer, rendering)
            if name not in taken and self._publish(folder, name, data):
                return self._result(True, folder / name)
        raise HostError(
            Code.KEEP_FULL,
            f"{limits.MAX_KEPT_RENDERINGS} renderings of this answer are kept already",
        )

    def delete(self) -> dict[str, Any]:
        """Delete every kept captcha (only our names, in our subfolders), then empty folders."""
        deleted = 0
        folders = [subfolder(self.root, s, k) for s in SOURCES for k in KINDS]
        try:
            for folder in folders:
                for path in _ours(folder):
                    path.unlink()
                    deleted += _NAME.match(path.name) is not None
            for folder in [*folders, self.root / HELPER, self.root]:
                if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                    folder.rmdir()
        except OSError as exc:
            raise HostError(Code.NOT_WRITABLE, f"cannot delete in {self.root}: {exc}") from exc
        return {"deleted": deleted, **self.counts()}

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _kept(folder: Path) -> list[Path]:
        return [p for p in _ours(folder) if _NAME.match(p.name)]

    def _make(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HostError(Code.NOT_WRITABLE, f"cannot create {folder}: {exc}") from exc
        if folder.is_symlink() or not folder.is_dir():
            raise HostError(Code.NOT_WRITABLE, f"{folder} is not a folder")

    @staticmethod
    def _same(path: Path, rgb: np.ndarray) -> bool:
        """Whether a kept file has exactly these pixels (an unreadable one does not)."""
        try:
            return bool(np.array_equal(imageio.decode_png(path.read_bytes()), rgb))
        except (OSError, HostError):
            return False

    @staticmethod
    def _publish(folder: Path, name: str, data: bytes) -> bool:
        """Write `data` as folder/name atomically; False if that name exists (never replaced)."""
        import secrets  # here: hashlib and random are not needed before a keep

        temp = folder / f".keep-{secrets.token_hex(8)}.png.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(temp, flags, 0o644)
        except OSError as exc:
            raise HostError(Code.NOT_WRITABLE, f"cannot write in {folder}: {exc}") from exc
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if sys.platform == "win32":
                temp.rename(folder / name)  # refuses an existing target on Windows
            else:
                (folder / name).hardlink_to(temp)  # refuses an existing target; rename would not
        except FileExistsError:
            return False
        except OSError as exc:
            raise HostError(Code.NOT_WRITABLE, f"cannot write in {folder}: {exc}") from exc
        finally:
            temp.unlink(missing_ok=True)
        return True

    def _result(self, kept: bool, path: Path, duplicate: bool = False) -> dict[str, Any]:
        return {
            "kept": kept,
            "duplicate": duplicate,
            "file": path.relative_to(self.root).as_posix(),
            **self.counts(),
        }
