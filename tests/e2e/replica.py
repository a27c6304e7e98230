"""A replica of the NTHU AIS pages the extension works on, served over HTTPS on loopback.

Faithful to ../shared/notes/ais-pages.md: the Big5 login page (unquoted `src`, `account`,
`passwd`, `passwd2`, hidden `fnstr` equal to the `pwdstr`, a 登入 submit button, the audio
link), its English variant, and the course-catalogue page JH629001.php with its 3-digit
captcha keyed by `ACIXSTORE`.

Captchas: the server knows every answer it drew. Login codes keep their digits for a `pwdstr`
and are drawn again on every fetch (as the real server does); course codes are redrawn on
every fetch (unknown on the real server, so the replica takes the harder case) and the
server remembers the last one per session. Images are synthetic (training/synth.py), or real
held-out ones from ../shared/data when given (read at run time, never copied). A synthetic
captcha whose digits an asterisk cut in two (its ink does not come apart into the kind's
digits, host/plausibility.py `looks_like_captcha`) is drawn again: no real one is cut so
(1,247 of 1,247 pass), a third of synthetic ones are, and the helper rightly leaves those to
the user, which would make the tests on a clone without ../shared a matter of luck.

Every form post is recorded, so tests can check that nothing was submitted. The login form's
target answers as the AIS does (ais-pages.md): the right captcha and password, the post-login
frameset (select_entry.php's `top.php`, `IN_INQ_STU.php`, `main`); a wrong captcha, the page
saying 驗證碼輸入錯誤!; the right captcha with the password WRONG_PASSWORD, 帳號或密碼錯誤. In Big5.
"""

from __future__ import annotations

import datetime
import itertools
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np

from host.kinds import KINDS
from host.plausibility import looks_like_captcha
from training import synth
from training.data import load_folder, split

TITLE = "國立清華大學 -- 校務資訊系統"
REDRAWS = 20  # synthetic drawings per served image, until one's digits are whole (see above)
LOGIN_PATHS = {"/ccxp/INQUIRE/", "/ccxp/INQUIRE/index.php"}
LOGIN_IMAGE = "/ccxp/INQUIRE/auth_img.php"
LOGIN_POST = "/ccxp/INQUIRE/pre_select_entry.php"
COURSE_PAGE = "/ccxp/INQUIRE/JH/6/6.2/6.2.9/JH629001.php"
COURSE_POST = "/ccxp/INQUIRE/JH/6/6.2/6.2.9/JH629002.php"
COURSE_IMAGE = "/ccxp/INQUIRE/JH/mod/auth_img/auth_img.php"
PROBE = "/e2e/probe.js"
# An AIS page framing the course page (as the post-login frameset frames AIS pages).
FRAMED_COURSE = "/ccxp/INQUIRE/e2e-framed-course.php"
# Another site's page framing the AIS course page (served on https://localhost:<port>).
FOREIGN_FRAME = "/e2e/foreign-frame.html"
HOSTNAMES = ["www.ccxp.nthu.edu.tw", "ccxp.nthu.edu.tw", "localhost"]
# The post-login frameset's frames (served as small pages).
FRAMES = {
    "/ccxp/INQUIRE/top.php",
    "/ccxp/INQUIRE/IN_INQ_STU.php",
    "/ccxp/INQUIRE/select_entry_main.php",
}
# The one password the replica refuses (the captcha is checked first, as the AIS does).
WRONG_PASSWORD = "wrong-password"
WRONG_CAPTCHA_TEXT = "驗證碼輸入錯誤!"
WRONG_PASSWORD_TEXT = "帳號或密碼錯誤"


# ---------------------------------------------------------------------------- captchas


class Captchas:
    """Draws captchas with known answers: synthetic, or real held-out images."""

    def __init__(self, real_data: Path | None = None, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.real: dict[str, dict[str, list[Path]]] = {}
        if real_data is not None:
            for kind in KINDS:
                _, val = split(load_folder(real_data / kind))
                by_answer: dict[str, list[Path]] = {}
                for sample in val:
                    by_answer.setdefault(sample.answer, []).append(sample.path)
                self.real[kind] = by_answer
        self._order = {k: itertools.cycle(sorted(v)) for k, v in self.real.items()}
        self._next = {k: 0 for k in self.real}

    @property
    def source(self) -> str:
        return "real" if self.real else "synthetic"

    def new_answer(self, kind: str, many_renderings: bool = False) -> str:
        """A fresh answer; with real images, `many_renderings` picks one drawn many times."""
        if self.real:
            if many_renderings:
                return max(self.real[kind], key=lambda a: len(self.real[kind][a]))
            return next(self._order[kind])
        digits = synth.STYLES[kind].digits
        return "".join(str(d) for d in self.rng.integers(0, 10, size=digits))

    def draw(self, kind: str, answer: str) -> bytes:
        """PNG bytes of `answer`: a new synthetic rendering, or the next real file for it."""
        if self.real:
            files = self.real[kind][answer]
            index = self._next.setdefault(answer, 0)
            self._next[answer] = index + 1
            return files[index % len(files)].read_bytes()
        for _ in range(REDRAWS):
            rgb, _ = synth.generate(kind, self.rng, text=answer)
            if looks_like_captcha(rgb, KINDS[kind]):
                break
        return synth.png_bytes(rgb, kind)


# ---------------------------------------------------------------------------- records


@dataclass
class Post:
    path: str
    fields: dict[str, str]
    at: float


@dataclass
class Served:
    kind: str
    key: str  # pwdstr or ACIXSTORE
    answer: str
    at: float


@dataclass
class State:
    captchas: Captchas
    login: dict[str, str] = field(default_factory=dict)  # pwdstr -> answer
    course: dict[str, str] = field(default_factory=dict)  # ACIXSTORE -> last answer drawn
    posts: list[Post] = field(default_factory=list)
    served: list[Served] = field(default_factory=list)
    many_renderings: bool = False  # next login codes: a real answer with many renderings
    image_delay: float = 0.0  # seconds before each captcha image is sent (a slow server)
    unreadable_login: bool = False  # login captchas served as a blank image: the host is unsure
    odd_size_login: bool = False  # login captchas drawn on a 120x40 canvas: "the captcha changed"
    reject_login_captcha: bool = False  # every login answered 驗證碼輸入錯誤!, right or not
    # (account, password) already in the login form, as a password manager would have put them
    prefill: tuple[str, str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: itertools.count = field(
        default_factory=lambda: itertools.count(random.randrange(9000))
    )

    def new_pwdstr(self) -> str:
        today = datetime.date.today().strftime("%Y%m%d")
        with self.lock:
            pwdstr = f"{today}-{next(self.counter)}"
            self.login[pwdstr] = self.captchas.new_answer("ais6", self.many_renderings)
        return pwdstr


# ---------------------------------------------------------------------------- pages


def login_page(pwdstr: str, english: bool, prefill: tuple[str, str] | None = None) -> bytes:
    """The login page, in Big5. Markup style of the real one: old HTML, unquoted attributes.
    `prefill`: (account, password) already in their fields."""
    filled = [f" value={v}" for v in prefill] if prefill else ["", ""]
    account_input = f"<input type=text name=account class=inputtext size=15{filled[0]}>"
    password_input = f"<input type=password name=passwd class=inputtext size=15{filled[1]}>"
    if english:
        labels = ("Account", "Password", "Verification code", "Play audio", "Login")
        lang = "<a href=index.php?lang=chinese>中文</a>"
    else:
        labels = ("帳號", "密碼", "驗證碼", "語音播放", "登入")
        lang = "<a href=index.php?lang=english>English</a>"
    account, password, code, audio, submit = labels
    audio_link = f'<a href="javascript:void(0)" onclick="return false">{audio}</a>'
    html = f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=big5">
<title>{TITLE}</title>
<script src={PROBE}></script>
</head>
<body bgcolor=#ffffff>
<center>
{lang}
<form name=login method=post action=pre_select_entry.php>
<table border=0>
<tr><td>{account}</td><td>{account_input}</td></tr>
<tr><td>{password}</td><td>{password_input}</td></tr>
<tr><td>{code}</td><td><input type=text name=passwd2 class=inputtext size=6 maxlength=6>
<img src=auth_img.php?pwdstr={pwdstr} align=absmiddle> {audio_link}
</td></tr>
<tr><td colspan=2 align=center>
<input type=hidden name=fnstr value={pwdstr}>
<input type=submit name=Submit value={submit}>
</td></tr>
</table>
</form>
</center>
<script>window.__e2e && window.__e2e.snap()</script>
</body>
</html>
"""
    if english:
        # On the English page the first link is the audio link (ais-pages.md).
        html = html.replace(lang + "\n", "").replace("</form>", "</form>\n" + lang)
    return html.encode("big5")


def course_page(session: str) -> bytes:
    html = f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=big5">
<title>課程查詢</title>
<script src={PROBE}></script>
</head>
<body>
<form name=form1 method=post action=JH629002.php>
<input type=hidden name=ACIXSTORE value={session}>
學年度 <select name=YS><option value="114|20">114 下學期</option></select>
<input type=hidden name=cond value=a>
科目代號 <input type=text name=cou_code size=10>
驗證碼 <input type=text name=auth_num size=3 maxlength=3>
<img src=/ccxp/INQUIRE/JH/mod/auth_img/auth_img.php?ACIXSTORE={session}>
<input type=submit value=確定>
</form>
<script>window.__e2e && window.__e2e.snap()</script>
</body>
</html>
"""
    return html.encode("big5")


def framed_course_page(session: str) -> bytes:
    return (
        f"<html><head><title>{TITLE}</title></head><body>"
        f"<iframe name=main width=800 height=400 src={COURSE_PAGE}?ACIXSTORE={session}></iframe>"
        "</body></html>"
    ).encode("big5")


def foreign_frame_page(session: str) -> bytes:
    src = f"https://{HOSTNAMES[0]}{COURSE_PAGE}?ACIXSTORE={session}"
    return (
        "<html><head><title>not AIS</title></head><body>"
        f"<iframe width=800 height=400 src={src}></iframe></body></html>"
    ).encode()


def frameset_page() -> bytes:
    """The post-login frameset (select_entry.php), as pre_select_entry.php answers a good login."""
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">'
        f"<title>{TITLE}</title></head>"
        '<frameset rows="90,*" border=0><frame name=top src=top.php>'
        '<frameset cols="180,*"><frame name=menu src=IN_INQ_STU.php>'
        "<frame name=main src=select_entry_main.php></frameset></frameset></html>"
    ).encode("big5")


def odd_size_png(rng: np.random.Generator) -> bytes:
    """A login captcha on a larger canvas (120x40): no kind has that size."""
    rgb, _ = synth.generate("ais6", rng)
    canvas = np.full((40, 120, 3), 255, np.uint8)
    canvas[4:36, 8:112] = rgb
    return synth.png_bytes(canvas, "ais6")


def result_page(text: str) -> bytes:
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">'
        f"<title>{TITLE}</title></head><body>{text}</body></html>"
    ).encode("big5")


# A white login-sized image: no digits at all, so the host has no answer (NO_ANSWER).
_LOGIN = KINDS["ais6"]
BLANK_LOGIN_PNG = synth.png_bytes(
    np.full((_LOGIN.height, _LOGIN.width, 3), 255, np.uint8), _LOGIN.name
)


# The test's probe: records image loads and input events with page timestamps, and a
# snapshot of the form right after parsing (before any extension can touch it).
PROBE_JS = b"""(() => {
  const probe = (window.__e2e = { loads: [], inputs: [], snapshot: null });
  probe.snap = () => { probe.snapshot = document.forms[0].outerHTML; };
  document.addEventListener("load", (e) => {
    if (e.target instanceof HTMLImageElement) {
      probe.loads.push({ src: e.target.src, t: performance.now() });
    }
  }, true);
  document.addEventListener("input", (e) => {
    probe.inputs.push({ name: e.target.name, value: e.target.value, t: performance.now() });
  }, true);
})();
"""


# ---------------------------------------------------------------------------- server


class Handler(BaseHTTPRequestHandler):
    server: ReplicaServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def send(self, body: bytes, ctype: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        state = self.server.state
        if url.path in LOGIN_PATHS:
            english = query.get("lang", "").lower() in {"english", "e", "en"}
            self.send(login_page(state.new_pwdstr(), english, state.prefill), "text/html")
        elif url.path == LOGIN_IMAGE:
            time.sleep(state.image_delay)
            pwdstr = query.get("pwdstr", "")
            with state.lock:
                if pwdstr not in state.login:
                    state.login[pwdstr] = state.captchas.new_answer("ais6")
                answer = state.login[pwdstr]
                png = state.captchas.draw("ais6", answer)
                if state.unreadable_login:
                    png = BLANK_LOGIN_PNG
                elif state.odd_size_login:
                    png = odd_size_png(state.captchas.rng)
                state.served.append(Served("ais6", pwdstr, answer, time.time()))
            self.send(png, "image/png")
        elif url.path == COURSE_PAGE:
            session = query.get("ACIXSTORE") or f"{random.getrandbits(64):016x}"
            self.send(course_page(session), "text/html")
        elif url.path == COURSE_IMAGE:
            time.sleep(state.image_delay)
            session = query.get("ACIXSTORE", "")
            with state.lock:
                answer = state.captchas.new_answer("ais3")
                state.course[session] = answer
                png = state.captchas.draw("ais3", answer)
                state.served.append(Served("ais3", session, answer, time.time()))
            self.send(png, "image/png")
        elif url.path == FRAMED_COURSE:
            self.send(framed_course_page(query.get("ACIXSTORE", "framed")), "text/html")
        elif url.path == FOREIGN_FRAME:
            self.send(foreign_frame_page(query.get("ACIXSTORE", "foreign")), "text/html")
        elif url.path in FRAMES:
            self.send(result_page(""), "text/html")
        elif url.path == PROBE:
            self.send(PROBE_JS, "text/javascript")
        else:
            self.send(b"not found", "text/plain", 404)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode("ascii", "replace")
        # Browsers encode form fields in the page's charset: Big5.
        fields = {k: v[0] for k, v in parse_qs(body, encoding="big5").items()}
        state = self.server.state
        state.posts.append(Post(url.path, fields, time.time()))
        if url.path == LOGIN_POST:
            right = state.login.get(fields.get("fnstr", "")) == fields.get("passwd2")
            if not right or state.reject_login_captcha:
                self.send(result_page(WRONG_CAPTCHA_TEXT), "text/html")
            elif fields.get("passwd") == WRONG_PASSWORD:
                self.send(result_page(WRONG_PASSWORD_TEXT), "text/html")
            else:
                self.send(frameset_page(), "text/html")
        elif url.path == COURSE_POST:
            right = state.course.get(fields.get("ACIXSTORE", "")) == fields.get("auth_num")
            self.send(result_page("OK" if right else WRONG_CAPTCHA_TEXT), "text/html")
        else:
            self.send(b"not found", "text/plain", 404)


class ReplicaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State, cert: Path, key: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server_address[1]


def start(state: State, cert: Path, key: Path) -> tuple[ReplicaServer, threading.Thread]:
    server = ReplicaServer(state, cert, key)
    thread = threading.Thread(target=server.serve_forever, name="ais-replica", daemon=True)
    thread.start()
    return server, thread


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the AIS host names and loopback, made for this run."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTNAMES[0])])
    now = datetime.datetime.now(datetime.UTC)
    alt = [x509.DNSName(h) for h in HOSTNAMES] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "replica.crt", folder / "replica.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
