"""Veerkracht and Taguette 1.5.2 side by side over HTTP, on one machine, in one run.

Run from the repository root (not part of the test suite; see benchmarks/RESULTS.md):

    .venv/bin/python benchmarks/side_by_side.py [highlights=1000] [--clients 8]
        [--per-client 40] [--opens 30]

with DATABASE_URL pointing at a PostgreSQL server to measure Veerkracht on PostgreSQL too (a
throwaway database is created beside it and dropped afterwards). Taguette is installed into
its own virtualenv (TAGUETTE_VENV, default /work/taguette-venv) with pip when it is missing,
never into the project's.

Servers, all on 127.0.0.1: Taguette in server mode (a temporary config and SQLite database;
its admin password is read from its log), and Veerkracht as in the Dockerfile (gunicorn, 3
workers, DEBUG off, collected static files) once on a temporary SQLite file with the embedded
default's settings and once on PostgreSQL. Each gets a project with the same text (about
150,000 characters of Dutch-looking prose) and a code/tag, and then:

- add: the same highlights (word spans of 2 to 30 words, one code each), alternating server by
  server request by request; Taguette through its JSON API
  (``/api/project/P/document/D/highlight/new``), Veerkracht through the workspace's htmx POST;
- open: the text with those highlights, alternating: for Veerkracht the workspace page; for
  Taguette what its page loads to show a document (the page, ``.../contents`` and the
  document's highlights, ``/api/project/P/document/D``), times and bytes summed;
- throughput: 8 clients adding highlights at once to a second text, one server at a time.

It prints p50 and p95 of add and open, the size of the opened text, throughput, errors
(any answer but 2xx, or a failed connection), and the ratios Veerkracht / Taguette.
"""

from __future__ import annotations

import bisect
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
TAGUETTE_VERSION = "1.5.2"
TAGUETTE_VENV = Path(os.environ.get("TAGUETTE_VENV", "/work/taguette-venv"))
WORDS = [
    "het",
    "gezin",
    "de",
    "ouders",
    "kinderen",
    "hulpverlener",
    "coach",
    "netwerk",
    "school",
    "buurt",
    "veerkracht",
    "hulpbronnen",
    "steun",
    "opvoeding",
    "vaardigheden",
    "vertrouwen",
    "samen",
    "thuis",
    "wekelijks",
    "gesprek",
    "doelen",
    "aanpak",
    "begeleiding",
    "zorg",
    "jeugdhulp",
    "problemen",
    "stress",
    "armoede",
    "schulden",
    "huisvesting",
    "werk",
    "inkomen",
    "identiteit",
    "cultuur",
    "geloof",
    "betekenis",
    "gehechtheid",
    "structuur",
    "regels",
    "betrokkenheid",
    "zelfvertrouwen",
    "empathie",
    "verantwoordelijkheid",
    "participatie",
    "versterken",
    "verminderen",
    "ondersteunen",
    "leren",
    "oefenen",
    "bespreken",
    "plannen",
    "coördinator",
    "één",
    "en",
    "of",
    "met",
    "voor",
    "van",
    "in",
    "op",
    "aan",
    "bij",
    "naar",
    "door",
    "om",
    "te",
    "zodat",
    "omdat",
    "wanneer",
    "terwijl",
]
TEXT_LENGTH = 150_000


# Text and highlights ---------------------------------------------------------------------------


def make_text(seed: int, length: int = TEXT_LENGTH) -> str:
    rng = random.Random(seed)
    paragraphs, size = [], 0
    while size < length:
        words = [rng.choice(WORDS) for _ in range(rng.randint(40, 120))]
        paragraph = " ".join(words).capitalize() + "."
        paragraphs.append(paragraph)
        size += len(paragraph) + 1
    return "\n".join(paragraphs)[:length].rstrip() + ".\n"


def word_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\W\d_]+", text)]


def spans_for(text: str, n: int, seed: int) -> list[tuple[int, int]]:
    """`n` different spans of 2 to 30 words, in random order."""
    rng = random.Random(seed)
    words = word_spans(text)
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < n:
        first = rng.randrange(len(words) - 31)
        last = first + rng.randint(1, 29)
        chosen.add((words[first][0], words[last][1]))
    spans = sorted(chosen)
    rng.shuffle(spans)
    return spans


# A small HTTP client with cookies ---------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    ms: float
    headers: dict[str, str] = field(default_factory=dict)


class Http:
    """One keep-alive connection to a server on 127.0.0.1, keeping its cookies."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
                continue
            ms = (time.perf_counter() - started) * 1000
            for value in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value
            return Answer(response.status, data, ms, dict(response.headers.items()))
        raise AssertionError("unreachable")

    def form(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        head = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, urlencode(fields, doseq=True).encode(), head)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            if Http(port).request("GET", path).status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server on {port} did not answer:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The servers ----------------------------------------------------------------------------------


class Server(ABC):
    """What the benchmark does with one server: add a highlight, open the text."""

    name: str

    @abstractmethod
    def add(self, client: Http, document: int, span: tuple[int, int]) -> Answer: ...

    @abstractmethod
    def open(self, client: Http) -> Answer: ...

    @abstractmethod
    def client(self) -> Http: ...

    @abstractmethod
    def close(self) -> None: ...


def ensure_taguette() -> Path:
    """Taguette's command, installed with pip into its own virtualenv when missing."""
    command = TAGUETTE_VENV / "bin" / "taguette"
    if not command.exists():
        print(f"installing Taguette {TAGUETTE_VERSION} into {TAGUETTE_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(TAGUETTE_VENV)], check=True)
        subprocess.run(
            [str(TAGUETTE_VENV / "bin" / "pip"), "install", "-q", f"taguette=={TAGUETTE_VERSION}"],
            check=True,
        )
    version = subprocess.run(
        [str(command), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if TAGUETTE_VERSION not in version:
        raise SystemExit(f"{command} is Taguette {version}, not {TAGUETTE_VERSION}")
    return command


class Taguette(Server):
    name = "Taguette"

    def __init__(self, workdir: Path, texts: list[str]) -> None:
        command = ensure_taguette()
        self.port = free_port()
        config = workdir / "taguette_config.py"
        config.write_text(
            "\n".join(
                [
                    'NAME = "Benchmark"',
                    'BIND_ADDRESS = "127.0.0.1"',
                    f"PORT = {self.port}",
                    'BASE_PATH = "/"',
                    f'DOMAIN = "127.0.0.1:{self.port}"',
                    f'SECRET_KEY = "{secrets.token_hex(20)}"',
                    f'DATABASE = "sqlite:///{workdir / "taguette.sqlite3"}"',
                    'EMAIL = "Benchmark <taguette@example.com>"',
                    "TOS_FILE = None",
                    'DEFAULT_LANGUAGE = "en_US"',
                    'MAIL_SERVER = {"ssl": False, "host": "localhost", "port": 25}',
                    "COOKIES_PROMPT = False",
                    "REGISTRATION_ENABLED = False",
                    "SQLITE3_IMPORT_ENABLED = False",
                    "X_HEADERS = False",
                    "CONVERT_TO_HTML_TIMEOUT = 180",
                    "CONVERT_FROM_HTML_TIMEOUT = 180",
                ]
            )
            + "\n"
        )
        self.log = workdir / "taguette.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(command), "server", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.port, "/health", self.process, self.log)
        found = re.search(r"admin password to: (\S+)", self.log.read_text())
        if not found:
            raise SystemExit(f"no admin password in Taguette's log:\n{self.log.read_text()}")
        self.session = Http(self.port)
        self.session.request("GET", "/login")
        for _attempt in range(60):
            # Taguette listens before it has stored its admin user: try again until it has.
            answer = self.session.form(
                "/login",
                {
                    "login": "admin",
                    "password": found.group(1),
                    "_xsrf": self.session.cookies["_xsrf"],
                },
            )
            if answer.status in (302, 303):
                break
            time.sleep(0.5)
        assert answer.status in (302, 303), (answer.status, self.log.read_text()[-2000:])
        answer = self.session.form(
            "/project/new",
            {"name": "Benchmark", "description": "", "_xsrf": self.session.cookies["_xsrf"]},
        )
        assert answer.status in (302, 303), (answer.status, self.log.read_text()[-2000:])
        self.project = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        self.documents = [self.document(n, text) for n, text in enumerate(texts)]
        self.line_ends = [[m.start() for m in re.finditer("\n", text)] for text in texts]
        answer = self.json("POST", f"/api/project/{self.project}/tag/new", {
            "path": "Sociale hulpbronnen", "description": ""})  # fmt: skip
        self.tag = json.loads(answer.body)["id"]

    def client(self) -> Http:
        return Http(self.port, self.session.cookies)

    def json(self, method: str, path: str, data: Any, client: Http | None = None) -> Answer:
        client = client or self.session
        return client.request(
            method,
            path,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", "X-XSRFToken": client.cookies["_xsrf"]},
        )

    def document(self, number: int, text: str) -> int:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (("name", f"Tekst {number}"), ("description", "")):
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="tekst{number}.html"\r\nContent-Type: text/html\r\n\r\n'
        )
        # As HTML, one paragraph per line: Taguette converts anything else with Calibre.
        html = "".join(f"<p>{escape(line)}</p>" for line in text.split("\n") if line)
        page = f"<html><body>{html}</body></html>"
        body = "".join(parts).encode() + page.encode() + f"\r\n--{boundary}--\r\n".encode()
        answer = self.session.request(
            "POST",
            f"/api/project/{self.project}/document/new",
            body,
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-XSRFToken": self.session.cookies["_xsrf"],
            },
        )
        assert answer.status == 200, (answer.status, answer.body[:300])
        return int(json.loads(answer.body)["created"])

    def add(self, client: Http, document: int, span: tuple[int, int]) -> Answer:
        path = f"/api/project/{self.project}/document/{self.documents[document]}/highlight/new"
        # Taguette counts the characters of the text in its HTML: no line ends between <p>s.
        lines = self.line_ends[document]
        start = span[0] - bisect.bisect_left(lines, span[0])
        end = span[1] - bisect.bisect_left(lines, span[1])
        data = {"start_offset": start, "end_offset": end, "tags": [self.tag]}
        return self.json("POST", path, data, client)

    def open(self, client: Http) -> Answer:
        doc = self.documents[0]
        answers = [
            client.request("GET", f"/project/{self.project}/document/{doc}"),
            client.request("GET", f"/api/project/{self.project}/document/{doc}/contents"),
            client.request("GET", f"/api/project/{self.project}/document/{doc}"),
        ]
        worst = max(a.status for a in answers)
        return Answer(worst, b"".join(a.body for a in answers), sum(a.ms for a in answers))

    def close(self) -> None:
        stop(self.process)


VEERKRACHT_SETUP = """
import json
from django.contrib.auth.models import User
from coding.codebook.services import code_create
from interventions.models import Intervention, Membership, Role, Study
texts = json.load(open({texts!r}))
owner = User.objects.create_user("eigenaar", password={password!r})
study = Study.objects.create(name="Benchmark", slug="benchmark")
Membership.objects.create(study=study, user=owner, role=Role.OWNER)
code = code_create(study=study, actor=owner, name="Sociale hulpbronnen")
made = [
    Intervention.objects.create(study=study, title=f"Tekst {{n}}", text=text)
    for n, text in enumerate(texts)
]
print("SETUP " + json.dumps({{"code": str(code.uuid), "docs": [str(i.uuid) for i in made]}}))
"""


class Veerkracht(Server):
    def __init__(self, workdir: Path, texts: list[str], database: dict[str, str], name: str):
        self.name = name
        self.texts = texts
        self.port = free_port()
        password = secrets.token_hex(12)
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")},
            "DJANGO_SETTINGS_MODULE": "veerkracht.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_hex(32),
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            **database,
        }
        manage = [str(PYTHON), "manage.py"]
        subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
        texts_file = workdir / "texts.json"
        texts_file.write_text(json.dumps(texts))
        script = VEERKRACHT_SETUP.format(texts=str(texts_file), password=password)
        made = subprocess.run(
            [*manage, "shell", "-c", script], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        setup = json.loads(made.stdout.split("SETUP ", 1)[1])
        self.code, self.docs = setup["code"], setup["docs"]
        self.log = workdir / f"gunicorn-{self.port}.log"
        gunicorn = PYTHON.parent / "gunicorn"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(gunicorn), "veerkracht.wsgi", "--workers", "3",
                 "--bind", f"127.0.0.1:{self.port}"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(self.port, "/accounts/login/", self.process, self.log)
        self.session = Http(self.port)
        self.session.request("GET", "/accounts/login/")
        answer = self.session.form(
            "/accounts/login/",
            {
                "username": "eigenaar",
                "password": password,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
        )
        assert answer.status == 302, (answer.status, answer.body[:500])
        assert self.open(self.session).status == 200

    def client(self) -> Http:
        return Http(self.port, self.session.cookies)

    def page(self, document: int) -> str:
        return f"/s/benchmark/i/{self.docs[document]}/code/"

    def add(self, client: Http, document: int, span: tuple[int, int]) -> Answer:
        start, end = span
        text = self.texts[document]
        return client.form(
            f"/s/benchmark/i/{self.docs[document]}/segments/",
            {"start": str(start), "end": str(end), "quote": text[start:end], "codes": self.code},
            {"X-CSRFToken": client.cookies["csrftoken"], "HX-Request": "true"},
        )

    def open(self, client: Http) -> Answer:
        return client.request("GET", self.page(0))

    def close(self) -> None:
        stop(self.process)


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A throwaway PostgreSQL database beside DATABASE_URL's; None without DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    name = f"side_by_side_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Measuring ------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Tally:
    add: list[float] = field(default_factory=list)
    open: list[float] = field(default_factory=list)
    size: int = 0
    errors: int = 0
    throughput: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def note(self, answer: Answer | None, into: list[float] | None) -> None:
        if answer is None or not 200 <= answer.status < 300:
            self.errors += 1
            if len(self.error_samples) < 3:
                what = "no answer" if answer is None else f"{answer.status} {answer.body[:200]!r}"
                self.error_samples.append(what)
            return
        if into is not None:
            into.append(answer.ms)


def attempt(call: Callable[[], Answer]) -> Answer | None:
    try:
        return call()
    except (OSError, http.client.HTTPException):
        return None


def throughput(server: Server, tally: Tally, clients: int, spans: list[tuple[int, int]]) -> None:
    per = len(spans) // clients
    barrier = threading.Barrier(clients)
    lock = threading.Lock()

    def work(mine: list[tuple[int, int]]) -> None:
        client = server.client()
        barrier.wait()
        for span in mine:
            answer = attempt(lambda span=span: server.add(client, 1, span))  # type: ignore[misc]
            with lock:
                tally.note(answer, None)

    threads = [
        threading.Thread(target=work, args=(spans[n * per : (n + 1) * per],))
        for n in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.throughput = clients * per / (time.perf_counter() - started)


def options(args: list[str]) -> dict[str, int]:
    found = {"highlights": 1000, "clients": 8, "per_client": 40, "opens": 30}
    items = iter(args)
    for item in items:
        if item.startswith("--"):
            found[item[2:].replace("-", "_")] = int(next(items))
        else:
            found["highlights"] = int(item)
    return found


def measure(args: list[str]) -> dict[str, float]:
    opts = options(args)
    texts = [make_text(1), make_text(2)]
    spans = spans_for(texts[0], opts["highlights"], seed=3)
    busy = spans_for(texts[1], opts["clients"] * opts["per_client"], seed=4)
    subprocess.run(
        [str(PYTHON), "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", "SECRET_KEY": "collectstatic-only"},
        check=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="side-by-side-"))
    servers: list[Server] = []
    figures: dict[str, float] = {}
    try:
        with postgres_database() as pg_url:
            servers.append(Taguette(workdir, texts))
            servers.append(
                Veerkracht(workdir, texts, {"SQLITE_PATH": str(workdir / "vk.sqlite3")}, "SQLite")
            )
            if pg_url:
                servers.append(Veerkracht(workdir, texts, {"DATABASE_URL": pg_url}, "PostgreSQL"))
            else:
                print("DATABASE_URL not set: Veerkracht on PostgreSQL left out")
            print(
                f"text {len(texts[0]):,} characters; {len(spans):,} highlights; "
                f"servers: {', '.join(s.name for s in servers)}",
                flush=True,
            )
            tallies = {s.name: Tally() for s in servers}
            clients = {s.name: s.client() for s in servers}
            for number, span in enumerate(spans):
                turn = number % len(servers)
                for server in servers[turn:] + servers[:turn]:
                    tally = tallies[server.name]
                    client = clients[server.name]
                    answer = attempt(lambda s=server, c=client, sp=span: s.add(c, 0, sp))  # type: ignore[misc]
                    tally.note(answer, tally.add)
            for number in range(opts["opens"]):
                turn = number % len(servers)
                for server in servers[turn:] + servers[:turn]:
                    tally = tallies[server.name]
                    answer = attempt(lambda s=server, c=clients[server.name]: s.open(c))  # type: ignore[misc]
                    tally.note(answer, tally.open)
                    if answer is not None:
                        tally.size = len(answer.body)
            for server in servers:
                throughput(server, tallies[server.name], opts["clients"], busy)
    finally:
        for server in servers:
            server.close()
        shutil.rmtree(workdir, ignore_errors=True)

    base = tallies["Taguette"]
    print(
        f"\n{'':<12}{'add p50':>9}{'add p95':>9}{'open p50':>10}{'open p95':>10}"
        f"{'page KB':>9}{'8 clients/s':>13}{'errors':>8}"
    )
    for name, t in tallies.items():
        add50 = statistics.median(t.add) if t.add else float("nan")
        open50 = statistics.median(t.open) if t.open else float("nan")
        print(
            f"{name:<12}{add50:>9.1f}{percentile(t.add, 0.95) if t.add else 0:>9.1f}"
            f"{open50:>10.1f}{percentile(t.open, 0.95) if t.open else 0:>10.1f}"
            f"{t.size / 1024:>9.0f}{t.throughput:>13.1f}{t.errors:>8}"
        )
        for sample in t.error_samples:
            print(f"    error: {sample}")
        key = name.lower()
        figures[f"{key} add p50 ms"] = add50
        figures[f"{key} open p50 ms"] = open50
        figures[f"{key} throughput per s"] = t.throughput
        figures[f"{key} errors"] = t.errors
    print("\nratios Veerkracht / Taguette (add and open: lower is faster; throughput: higher)")
    for name, t in tallies.items():
        if name == "Taguette":
            continue
        add_ratio = statistics.median(t.add) / statistics.median(base.add)
        open_ratio = statistics.median(t.open) / statistics.median(base.open)
        rate = t.throughput / base.throughput
        print(
            f"{name:<12} add p50 {add_ratio:.2f} (target <= 0.33)   open p50 {open_ratio:.2f} "
            f"(target <= 0.33)   throughput x{rate:.1f} (target >= 3)   errors {t.errors} "
            f"(Taguette {base.errors})"
        )
        figures[f"{name.lower()} add p50 ratio"] = add_ratio
        figures[f"{name.lower()} open p50 ratio"] = open_ratio
        figures[f"{name.lower()} throughput ratio"] = rate
    return figures


if __name__ == "__main__":
    run(measure)
