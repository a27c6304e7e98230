"""The `keep` action: request validation (host/protocol.py), storing, counting and deleting
(host/keep.py), through the handler in process and once through the real program.

Images are synthetic captchas (training/synth.py); every folder is a tmp folder.
"""

from __future__ import annotations

import base64
import io
import os

import numpy as np
import pytest
from PIL import Image

from host import limits, protocol
from host.handler import Handler
from host.keep import Keeper
from host.lazy import LazySolver
from tests.fuzz.hostpipe import HostProcess, host_env
from tests.test_host_imageio import bomb, png
from training import synth
from training.data import load_folder, split


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def captcha_png(kind: str = "ais6", seed: int = 0) -> bytes:
    rgb, _ = synth.generate(kind, np.random.default_rng(seed))
    return synth.png_bytes(rgb, kind)


def keep_request(**fields) -> dict:
    message = {"id": 1, "action": "keep", "kind": "ais6", "answer": "012345", "source": "user"}
    message.setdefault("image", b64(captcha_png()))
    message.update(fields)
    return {k: v for k, v in message.items() if v is not None}


def no_solver():
    raise AssertionError("keep must not load the models")


@pytest.fixture
def handler(tmp_path) -> Handler:
    return Handler(LazySolver(no_solver), keeper=Keeper(tmp_path / "captchas"))


def ask(handler: Handler, message: dict) -> dict:
    """The reply to one request as the server gives it (parse, then handle)."""
    try:
        request = protocol.parse_request(message)
    except protocol.RequestError as exc:
        return protocol.error_reply(exc.request_id, exc.code, exc.message)
    return handler.handle(request)


def files(root) -> list[str]:
    """Every file under root, as relative posix paths (temporary files included)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- validation -----------------------------------------------------------------------------

BAD_REQUESTS = [
    ({"kind": None}, "BAD_REQUEST"),
    ({"kind": "ais9"}, "BAD_REQUEST"),
    ({"answer": None}, "BAD_REQUEST"),
    ({"answer": 12345}, "BAD_REQUEST"),
    ({"answer": "01234"}, "BAD_REQUEST"),  # 5 digits for ais6
    ({"answer": "0123456"}, "BAD_REQUEST"),
    ({"answer": "01234a"}, "BAD_REQUEST"),
    ({"answer": "../../x"}, "BAD_REQUEST"),
    ({"answer": "01234/"}, "BAD_REQUEST"),
    ({"answer": "012345\n"}, "BAD_REQUEST"),
    ({"answer": "０１２３４５"}, "BAD_REQUEST"),  # fullwidth digits are str.isdigit() too
    ({"answer": "١٢٣٤٥٦"}, "BAD_REQUEST"),  # Arabic-Indic digits
    ({"answer": "012", "kind": "ais6"}, "BAD_REQUEST"),  # an ais3 answer for ais6
    ({"source": None}, "BAD_REQUEST"),
    ({"source": "model"}, "BAD_REQUEST"),
    ({"image": None}, "BAD_REQUEST"),
    ({"image": 7}, "BAD_REQUEST"),
    ({"delete": "yes"}, "BAD_REQUEST"),
    ({"image": "@@not base64@@"}, "BAD_BASE64"),
    ({"image": b64(b"GIF89a not a png")}, "BAD_IMAGE"),
    ({"image": "data:image/jpeg;base64,/9j/"}, "BAD_IMAGE"),
    ({"image": b64(captcha_png()[:-20])}, "BAD_IMAGE"),  # truncated
    ({"image": b64(bomb(40_000, 40_000))}, "IMAGE_TOO_LARGE"),
    ({"image": b64(captcha_png("ais3"))}, "BAD_SIZE"),  # a 42x30 image as ais6
    ({"image": b64(captcha_png("ais6")), "kind": "ais3", "answer": "012"}, "BAD_SIZE"),
    ({"image": b64(png(Image.new("RGB", (105, 32), "white")))}, "BAD_SIZE"),
    ({"image": b64(png(Image.new("RGB", (104, 31), "white")))}, "BAD_SIZE"),
]


@pytest.mark.parametrize(("fields", "code"), BAD_REQUESTS)
def test_a_bad_keep_request_gets_its_code_and_writes_nothing(handler, fields, code) -> None:
    reply = ask(handler, keep_request(**fields))
    assert reply["ok"] is False and reply["error"]["code"] == code, reply
    assert reply["id"] == 1
    assert not handler.keeper.root.exists()


def test_keep_stores_a_png_of_the_pixels_named_by_the_answer(handler) -> None:
    sent = captcha_png("ais6", seed=3)
    reply = ask(handler, keep_request(image=b64(sent)))
    assert reply["ok"], reply
    result = reply["result"]
    assert result["kept"] is True and result["duplicate"] is False
    assert result["file"] == "ais6/012345.png"
    assert result["user"] == {"ais6": 1, "ais3": 0} and result["total"] == 1
    assert result["folder"] == str(handler.keeper.root)
    stored = handler.keeper.root / "ais6" / "012345.png"
    assert files(handler.keeper.root) == ["ais6/012345.png"]
    with Image.open(stored) as image:  # re-encoded from the pixels: same picture
        assert image.format == "PNG" and image.size == (104, 32)
        want = np.asarray(Image.open(io.BytesIO(sent)).convert("RGB"))
        assert np.array_equal(np.asarray(image.convert("RGB")), want)


def test_a_data_url_and_an_ais3_captcha_are_kept_too(handler) -> None:
    image = "data:image/png;base64," + b64(captcha_png("ais3"))
    reply = ask(handler, keep_request(kind="ais3", answer="007", image=image))
    assert reply["ok"] and reply["result"]["file"] == "ais3/007.png"


def test_other_chunks_of_the_callers_png_are_not_written(handler) -> None:
    from PIL import PngImagePlugin

    rgb, _ = synth.generate("ais6", np.random.default_rng(0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-marker-text")
    sent = png(Image.fromarray(rgb), pnginfo=info)
    assert b"secret-marker-text" in sent
    assert ask(handler, keep_request(image=b64(sent)))["ok"]
    assert b"secret-marker-text" not in (handler.keeper.root / "ais6" / "012345.png").read_bytes()


def test_renderings_of_one_answer_get_nn_and_an_identical_image_is_not_kept_twice(
    handler,
) -> None:
    names = [ask(handler, keep_request(image=b64(captcha_png(seed=s)))) for s in (1, 2, 3)]
    assert [r["result"]["file"] for r in names] == [
        "ais6/012345.png",
        "ais6/012345_01.png",
        "ais6/012345_02.png",
    ]
    again = ask(handler, keep_request(image=b64(captcha_png(seed=2))))["result"]
    assert again["kept"] is False and again["duplicate"] is True
    assert again["file"] == "ais6/012345_01.png" and again["total"] == 3
    # The layout is the one training reads: three renderings of one answer, all validation.
    samples = load_folder(handler.keeper.root / "ais6", 6)
    assert [s.answer for s in samples] == ["012345"] * 3
    assert split(samples) == ([], samples)


def test_helper_answers_are_kept_apart(handler) -> None:
    reply = ask(handler, keep_request(source="helper"))
    assert reply["result"]["file"] == "helper/ais6/012345.png"
    assert reply["result"]["helper"] == {"ais6": 1, "ais3": 0}
    assert reply["result"]["user"] == {"ais6": 0, "ais3": 0}
    # training --data <folder> reads <folder>/ais6: helper labels are not in it
    assert load_folder(handler.keeper.root / "ais6") == []


def test_the_count_limit_refuses_with_keep_full(handler, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEPT_FILES", 3)
    for seed, answer in enumerate(("111111", "222222", "333333")):
        reply = ask(handler, keep_request(answer=answer, image=b64(captcha_png(seed=seed))))
        assert reply["ok"], reply
    reply = ask(handler, keep_request(answer="444444", image=b64(captcha_png(seed=9))))
    assert reply["error"]["code"] == "KEEP_FULL"
    helper = ask(handler, keep_request(source="helper", image=b64(captcha_png(seed=9))))
    assert helper["error"]["code"] == "KEEP_FULL"  # the limit counts both sources
    assert len(files(handler.keeper.root)) == 3


def test_the_renderings_limit_refuses_with_keep_full(handler, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEPT_RENDERINGS", 2)
    for seed in (1, 2):
        assert ask(handler, keep_request(image=b64(captcha_png(seed=seed))))["ok"]
    reply = ask(handler, keep_request(image=b64(captcha_png(seed=3))))
    assert reply["error"]["code"] == "KEEP_FULL"
    assert files(handler.keeper.root) == ["ais6/012345.png", "ais6/012345_01.png"]


def test_an_existing_file_is_never_replaced(handler) -> None:
    """A file of the next name appearing under us (another host process) is skipped, kept."""
    folder = handler.keeper.root / "ais6"
    folder.mkdir(parents=True)
    assert handler.keeper._publish(folder, "012345.png", b"first") is True
    assert handler.keeper._publish(folder, "012345.png", b"second") is False
    assert (folder / "012345.png").read_bytes() == b"first"
    assert files(handler.keeper.root) == ["ais6/012345.png"]  # no temporary file left


# -- a folder that cannot be written --------------------------------------------------------
# These tests run as root here, and root ignores permission bits, so a read-only folder made
# with chmod would not fail. What fails for everyone: the folder's path (or a kind
# subfolder's) is an existing file, so mkdir fails. A read-only folder is tested only when
# not root.


def test_a_folder_path_that_is_a_file_answers_not_writable(tmp_path) -> None:
    root = tmp_path / "captchas"
    root.write_bytes(b"not a folder")
    handler = Handler(LazySolver(no_solver), keeper=Keeper(root))
    reply = ask(handler, keep_request())
    assert reply["error"]["code"] == "NOT_WRITABLE"
    assert root.read_bytes() == b"not a folder"


def test_a_kind_subfolder_that_is_a_file_answers_not_writable(tmp_path) -> None:
    root = tmp_path / "captchas"
    root.mkdir()
    (root / "ais6").write_bytes(b"")
    handler = Handler(LazySolver(no_solver), keeper=Keeper(root))
    assert ask(handler, keep_request())["error"]["code"] == "NOT_WRITABLE"
    assert files(root) == ["ais6"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores chmod")
def test_a_read_only_folder_answers_not_writable(tmp_path) -> None:
    root = tmp_path / "captchas"
    (root / "ais6").mkdir(parents=True)
    (root / "ais6").chmod(0o500)
    try:
        handler = Handler(LazySolver(no_solver), keeper=Keeper(root))
        assert ask(handler, keep_request())["error"]["code"] == "NOT_WRITABLE"
        assert files(root) == []
    finally:
        (root / "ais6").chmod(0o700)


# -- status and delete ----------------------------------------------------------------------


def test_status_reports_the_folder_and_counts_without_creating_it(handler) -> None:
    reply = ask(handler, {"id": 2, "action": "status"})
    kept = reply["result"]["kept"]
    assert kept == {
        "folder": str(handler.keeper.root),
        "user": {"ais6": 0, "ais3": 0},
        "helper": {"ais6": 0, "ais3": 0},
        "total": 0,
        "limit": limits.MAX_KEPT_FILES,
    }
    assert not handler.keeper.root.exists()
    ask(handler, keep_request(kind="ais3", answer="123", image=b64(captcha_png("ais3"))))
    kept = ask(handler, {"id": 3, "action": "status"})["result"]["kept"]
    assert kept["user"] == {"ais6": 0, "ais3": 1} and kept["total"] == 1


def test_delete_removes_only_our_files_and_leaves_others(handler) -> None:
    ask(handler, keep_request())
    ask(handler, keep_request(source="helper", image=b64(captcha_png(seed=5))))
    root = handler.keeper.root
    (root / "ais6" / "notes.txt").write_text("the user's own file")
    (root / "ais6" / "holiday.png").write_bytes(b"not ours either")
    reply = ask(handler, {"id": 4, "action": "keep", "delete": True})
    assert reply["ok"], reply
    assert reply["result"]["deleted"] == 2 and reply["result"]["total"] == 0
    assert files(root) == ["ais6/holiday.png", "ais6/notes.txt"]
    assert not (root / "helper").exists()  # emptied folders of ours go too


def test_delete_of_nothing_is_fine(handler) -> None:
    reply = ask(handler, {"id": 5, "action": "keep", "delete": True})
    assert reply["ok"] and reply["result"]["deleted"] == 0


def test_delete_does_not_follow_a_symlinked_kind_folder(tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "123456.png").write_bytes(b"someone else's")
    root = tmp_path / "captchas"
    root.mkdir()
    (root / "ais6").symlink_to(elsewhere, target_is_directory=True)
    handler = Handler(LazySolver(no_solver), keeper=Keeper(root))
    assert ask(handler, {"id": 6, "action": "keep", "delete": True})["result"]["deleted"] == 0
    assert (elsewhere / "123456.png").exists()
    assert ask(handler, keep_request())["error"]["code"] == "NOT_WRITABLE"


# -- the real program -----------------------------------------------------------------------


def test_keep_over_the_native_protocol(tmp_path) -> None:
    """`python -m host` with DECAPTCHA_CAPTCHAS: keep, status, a refusal, delete."""
    root = tmp_path / "kept"
    models = tmp_path / "models"
    models.mkdir()
    env = host_env(tmp_path / "home", DECAPTCHA_MODELS=str(models), DECAPTCHA_CAPTCHAS=str(root))
    host = HostProcess(env=env)
    try:
        kept = host.request(keep_request(id="k"))
        refused = host.request(keep_request(id="bad", answer="12345"))
        status = host.request({"id": "s", "action": "status"})
        stored = files(root)
        deleted = host.request({"id": "d", "action": "keep", "delete": True})
        code, rest = host.close()
    finally:
        host.kill()
    assert kept["ok"] and kept["id"] == "k" and kept["result"]["file"] == "ais6/012345.png"
    assert refused["error"]["code"] == "BAD_REQUEST"
    assert status["result"]["kept"]["folder"] == str(root)
    assert status["result"]["kept"]["total"] == 1
    assert stored == ["ais6/012345.png"]
    assert deleted["result"]["deleted"] == 1 and not root.exists()
    assert code == 0 and rest == b""


def test_the_default_folder_is_beside_the_app_folder_not_in_it(monkeypatch, tmp_path) -> None:
    from host import paths

    monkeypatch.delenv("DECAPTCHA_CAPTCHAS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(paths.sys, "platform", "linux")
    folder = paths.captchas_dir()
    assert folder == tmp_path / "data" / "nthu-ais-decaptcha-captchas"
    # the installer's application folder is <data>/nthu-ais-decaptcha: uninstall removes it
    assert not folder.is_relative_to(tmp_path / "data" / "nthu-ais-decaptcha")
    monkeypatch.setenv("DECAPTCHA_CAPTCHAS", str(tmp_path / "x"))
    assert paths.captchas_dir() == tmp_path / "x"
