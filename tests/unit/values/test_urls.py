"""No secret in any file or output (issue 12, class 3), unit level.

One redaction (``envspec.values.urls.redact_url``) is used for everything envspec writes or prints; the
index client finds the real credentials again at download time: a URL's own, the spec's URL for
the lock's redacted one, the index's for its host, netrc. A malformed netrc is ignored with a
warning that never quotes it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

import httpx
import pytest
from packaging.utils import NormalizedName

from envspec.lock import text as lockfile
from envspec.sources.materialise import Materials, materialise
from envspec.lock.export import to_pylock_subset, to_requirements_txt
from envspec.index.client import IndexClient, IndexUnavailable, status_error
from envspec.lock.model import LockInputs, normalize_requirement
from envspec.plan import Wanted
from envspec.values.files import FileInfo
from envspec.spec.load import parse_spec
from envspec.values.urls import is_redacted, redact_text, redact_url, strip_credentials
from envspec.venv.dist_info import dist_info_files

SECRET = "s3cr3t-t0ken"
SHA = hashlib.sha256(b"tool").hexdigest()
WHEEL = "tool-2.0-py3-none-any.whl"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ── the redaction ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://alice:{SECRET}@host/x.whl", "https://alice:***@host/x.whl"),
        (f"https://{SECRET}@host/x.whl", "https://***@host/x.whl"),  # a bare token
        (f"https://:{SECRET}@host/x.whl", "https://***@host/x.whl"),
        (f"https://alice:{SECRET}@host:8443/a/x.whl?q=1", "https://alice:***@host:8443/a/x.whl?q=1"),
        (f"https://alice:{SECRET}@host:99999/x.whl", "https://alice:***@host:99999/x.whl"),  # bad port
        (f"http://alice:{SECRET}@[::1/x.whl", "http://alice:***@[::1/x.whl"),  # not a valid URL
        (f"https://a%40b:{SECRET}@host/x.whl", "https://a%40b:***@host/x.whl"),
        ("https://host/x.whl", "https://host/x.whl"),
        ("file:///tmp/x.whl", "file:///tmp/x.whl"),
    ],
)
def test_redact_url_replaces_only_the_secret(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown  # idempotent: a lock's URL redacted again is unchanged
    assert SECRET not in strip_credentials(url) and "@" not in strip_credentials(url).split("/")[2]


def test_redacted_and_real_userinfo_are_told_apart() -> None:
    assert is_redacted("https://alice:***@host/x") and is_redacted("https://***@host/x")
    assert not is_redacted(f"https://alice:{SECRET}@host/x") and not is_redacted("https://host/x")


def test_redact_text_finds_every_url_in_a_message() -> None:
    text = f"tool @ https://alice:{SECRET}@h/t.whl ; python_version > '3' or https://{SECRET}@g/"
    assert redact_text(text) == "tool @ https://alice:***@h/t.whl ; python_version > '3' or https://***@g/"


# ── what the lock records ─────────────────────────────────────────────────────────────────────


def _spec(url_source: str, requirement_url: str) -> LockInputs:
    text = (
        'python = ">=3.11"\n'
        f'requirements = ["tool", "other @ {requirement_url}"]\n'
        f'[sources]\ntool = {{ url = "{url_source}#sha256={SHA}" }}\n'
    )
    return LockInputs.from_spec(parse_spec(text, path=Path("/p/envspec.toml")))


def test_the_recorded_inputs_hold_no_secret_and_a_new_password_is_not_a_change() -> None:
    inputs = _spec(
        f"https://alice:{SECRET}@host/{WHEEL}", f"https://{SECRET}@host/other-1.0.tar.gz"
    )
    text = str(inputs.to_toml())
    assert SECRET not in text
    assert "https://alice:***@host/" in text and "other @ https://***@host/other-1.0.tar.gz" in text
    rotated = _spec("https://alice:new-password@host/" + WHEEL, "https://new-token@host/other-1.0.tar.gz")
    assert rotated.differences(inputs) == []  # same URLs, same account: the lock stays fresh
    other_user = _spec(f"https://bob:{SECRET}@host/{WHEEL}", "https://t@host/other-1.0.tar.gz")
    assert other_user.differences(inputs) != []


def test_a_lock_that_recorded_a_password_is_stale_without_repeating_it() -> None:
    now = _spec(f"https://alice:{SECRET}@host/{WHEEL}", f"https://{SECRET}@host/other-1.0.tar.gz")
    old = now.to_toml()  # what an envspec before redaction wrote: the URLs as the spec has them
    old["requirements"] = [r.replace("***", SECRET) for r in old["requirements"]]
    old["sources"] = {k: v.replace("***", f"{SECRET}") for k, v in old["sources"].items()}
    reasons = now.differences(LockInputs.from_toml(old))
    assert reasons == ["the lock records a password in a URL; re-locking writes it redacted"]
    moved = _spec(f"https://alice:{SECRET}@elsewhere/{WHEEL}", "https://t@host/other-1.0.tar.gz")
    reasons = moved.differences(LockInputs.from_toml(old))
    assert reasons and not any(SECRET in reason for reason in reasons)


def test_a_requirement_is_normalised_with_its_secret_redacted() -> None:
    from packaging.requirements import Requirement

    text = normalize_requirement(Requirement(f"Tool @ https://alice:{SECRET}@host/{WHEEL}"))
    assert text == f"tool @ https://alice:***@host/{WHEEL}"


def test_a_bad_requirement_is_reported_without_its_secret() -> None:
    from envspec.errors import SpecError

    text = f'python = ">=3.11"\nrequirements = ["tool @ https://alice:{SECRET}@host/{WHEEL}#md5=00"]\n'
    with pytest.raises(SpecError) as caught:
        parse_spec(text, path=Path("/p/envspec.toml"))
    assert SECRET not in str(caught.value) and "alice:***@host" in str(caught.value)


def test_a_materialised_url_source_is_downloaded_with_its_credentials_and_kept_without(
    tmp_path: Path,
) -> None:
    spec = parse_spec(
        f'python = ">=3.11"\nrequirements = ["tool"]\n'
        f'[sources]\ntool = {{ url = "https://alice:{SECRET}@host/{WHEEL}" }}\n',
        path=tmp_path / "envspec.toml",
    )
    downloads: list[str] = []

    def download(file: FileInfo) -> Path:
        downloads.append(file.url)
        path = tmp_path / file.filename
        path.write_bytes(b"tool")
        return path

    found = materialise(
        spec,
        Materials(
            download=download,
            archive_metadata=lambda _path, _file: b"Name: tool\nVersion: 2.0\n",
            directory_metadata=lambda *_: b"",
            digest=lambda *_: "",
        ),
    )
    package = found[NormalizedName("tool")]
    assert downloads == [f"https://alice:{SECRET}@host/{WHEEL}"]  # the one use of the secret
    assert package.location == package.file.url == f"https://alice:***@host/{WHEEL}"
    assert SECRET not in package.source.describe()


# ── what export and the installed dist-info write ─────────────────────────────────────────────

FOREIGN_LOCK = f"""\
lock-version = "1.0"
created-by = "another-tool"

[[packages]]
name = "tool"
version = "2.0"
index = "https://alice:{SECRET}@host/simple"

[packages.archive]
url = "https://alice:{SECRET}@host/{WHEEL}"
hashes = {{ sha256 = "{SHA}" }}

[[packages]]
name = "dep"
version = "1.0"
index = "https://alice:{SECRET}@host/simple"

[[packages.wheels]]
url = "https://alice:{SECRET}@host/files/dep-1.0-py3-none-any.whl"
hashes = {{ sha256 = "{SHA}" }}
"""


def test_export_of_a_lock_with_secrets_writes_none() -> None:
    lock = lockfile.loads(FOREIGN_LOCK)
    requirements = to_requirements_txt(lock)
    assert SECRET not in requirements
    # for pip, no userinfo at all: pip then asks its netrc or keyring for the password
    assert f"tool @ https://host/{WHEEL}" in requirements
    assert "--index-url https://host/simple" in requirements
    subset = lockfile.dumps(to_pylock_subset(lock))
    assert SECRET not in subset and f"https://alice:***@host/{WHEEL}" in subset


def test_direct_url_json_never_holds_the_secret() -> None:
    wanted = Wanted(
        name=NormalizedName("tool"),
        version=None,
        url=f"https://alice:{SECRET}@host/{WHEEL}",
        filename=WHEEL,
        sha256=SHA,
        kind="wheel",
        direct_url=f"https://alice:{SECRET}@host/{WHEEL}",
    )
    written = dist_info_files(wanted)["direct_url.json"].decode()
    assert SECRET not in written and f'"url":"https://alice:***@host/{WHEEL}"' in written


# ── credentials at download time ──────────────────────────────────────────────────────────────


class _Requests:
    def __init__(self, status: int = 200) -> None:
        self.seen: list[httpx.Request] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(self.status, content=b"tool")


def _client(handler: _Requests) -> IndexClient:
    return IndexClient(transport=httpx.MockTransport(handler), sleep=lambda _: None, retries=0)


def test_a_redacted_url_is_fetched_with_the_spec_urls_credentials() -> None:
    handler = _Requests()
    with _client(handler) as client:
        shown = client.register_url(f"https://alice:{SECRET}@host/{WHEEL}")
        assert shown == f"https://alice:***@host/{WHEEL}"
        client.get(shown)  # what a lock keeps
        client.get(f"https://alice:***@host/other-{WHEEL}")  # not registered: nothing to send
    first, second = handler.seen
    assert str(first.url) == f"https://host/{WHEEL}"  # the request never carries a userinfo
    assert first.headers["Authorization"] == _basic("alice", SECRET)
    assert "Authorization" not in second.headers and "***" not in str(second.url)


def test_a_redacted_url_falls_back_to_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine host login alice password {SECRET}\n")
    monkeypatch.setenv("NETRC", str(netrc))
    handler = _Requests()
    with _client(handler) as client:
        client.get(f"https://alice:***@host/{WHEEL}")
    assert handler.seen[0].headers["Authorization"] == _basic("alice", SECRET)


def test_real_credentials_in_a_url_are_used_from_a_header() -> None:
    handler = _Requests()
    with _client(handler) as client:
        client.get(f"https://alice:{SECRET}@host/{WHEEL}")
    assert str(handler.seen[0].url) == f"https://host/{WHEEL}"
    assert handler.seen[0].headers["Authorization"] == _basic("alice", SECRET)


def test_a_refused_redacted_url_says_where_the_password_comes_from() -> None:
    handler = _Requests(status=401)
    with _client(handler) as client:
        response = client.get(f"https://alice:***@host/{WHEEL}")
    error = status_error(f"https://alice:***@host/{WHEEL}", response.status)
    assert isinstance(error, IndexUnavailable)
    assert "[sources]" in (error.hint or "") and "netrc" in (error.hint or "")
    real = status_error(f"https://alice:{SECRET}@host/{WHEEL}", 401)
    assert SECRET not in str(real) and SECRET not in (real.hint or "")


# ── a malformed netrc ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "content",
    [
        f"machine host login alice password hunter2 {SECRET}\n",  # a password with a space
        f"machine host login alice passwd {SECRET}\n",
        f"{SECRET}\nmachine host login alice password hunter2\n",
        b"machine host login alice password \xff" + SECRET.encode() + b"\n",
    ],
    ids=["follower-token", "misspelt-keyword", "toplevel-token", "not-utf8"],
)
def test_a_malformed_netrc_is_ignored_without_quoting_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    content: str | bytes,
) -> None:
    netrc = tmp_path / "netrc"
    if isinstance(content, bytes):
        netrc.write_bytes(content)
    else:
        netrc.write_text(content)
    monkeypatch.setenv("NETRC", str(netrc))
    handler = _Requests()
    with caplog.at_level(logging.DEBUG), _client(handler) as client:
        client.get(f"https://host/{WHEEL}")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET not in logged and "hunter2" not in logged
    assert str(netrc) in logged and "ignoring" in logged
    if isinstance(content, str):
        assert "cannot be parsed" in logged and "line " in logged  # where, not what
    assert "Authorization" not in handler.seen[0].headers
