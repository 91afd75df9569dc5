"""[sources] and ``name @ URL`` in the spec: what Spec.sources holds, which URLs envspec accepts,
and the same sources written in pyproject.toml (errors located where the user wrote them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envspec.errors import EXIT_USER, SpecError
from envspec.spec.pyproject import parse_pyproject_spec
from envspec.spec.parse import parse_direct_url
from envspec.spec.load import load_spec, parse_spec
from envspec.spec.model import Source

SPECS = Path(__file__).resolve().parents[3] / "fixtures" / "specs"
SHA = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


# ── the valid fixture ──────────────────────────────────────────────────────────────────────────


def test_the_sources_fixture_gives_every_kind_of_source() -> None:
    spec = load_spec(SPECS / "valid" / "sources.toml")
    assert dict(spec.sources) == {
        "devtools": Source(url="https://example.com/devtools-0.1.tar.gz"),
        "mylib": Source(path="libs/mylib", editable=True),
        "tool": Source(url="https://example.com/dist/tool-2.0-py3-none-any.whl", sha256=SHA),
        "vendored": Source(path="../wheels/vendored-1.0-py3-none-any.whl"),
    }
    # a group's requirement can have a source too, and the requirement keeps its URL as written
    assert [str(r) for r in spec.groups["dev"]] == ["devtools"]  # type: ignore[index]
    assert (
        spec.requirements[2].url
        == f"https://example.com/dist/tool-2.0-py3-none-any.whl#sha256={SHA}"
    )


def test_local_path_is_relative_to_the_spec_directory_and_normalised(tmp_path: Path) -> None:
    spec = load_spec(SPECS / "valid" / "sources.toml")
    mylib, vendored = spec.sources["mylib"], spec.sources["vendored"]  # type: ignore[index]
    assert mylib.local_path(tmp_path / "proj") == tmp_path / "proj" / "libs" / "mylib"
    wheel = tmp_path / "wheels" / "vendored-1.0-py3-none-any.whl"
    assert vendored.local_path(tmp_path / "proj") == wheel
    assert spec.sources["tool"].local_path(tmp_path) is None  # type: ignore[index]
    absolute = Source(path=str(tmp_path / "elsewhere"))
    assert absolute.local_path(tmp_path / "proj") == tmp_path / "elsewhere"


def test_local_path_of_a_file_url_is_its_path(tmp_path: Path) -> None:
    wheel = tmp_path / "a dir" / "x-1.0-py3-none-any.whl"
    assert Source(url=wheel.as_uri()).local_path(Path("/unrelated")) == wheel


def test_describe_gives_the_canonical_words_the_lock_records() -> None:
    spec = load_spec(SPECS / "valid" / "sources.toml")
    described = {str(name): source.describe() for name, source in spec.sources.items()}
    assert described == {
        "devtools": "url https://example.com/devtools-0.1.tar.gz",
        "mylib": "path libs/mylib (editable)",
        "tool": f"url https://example.com/dist/tool-2.0-py3-none-any.whl#sha256={SHA}",
        "vendored": "path ../wheels/vendored-1.0-py3-none-any.whl",
    }
    # a path written with backslashes is described the same as with forward slashes
    assert Source(path="libs\\mylib").describe() == Source(path="libs/mylib").describe()


def test_a_source_makes_a_requirement_with_a_url_its_one_place() -> None:
    spec = parse_spec(
        'python = ">=3.11"\nrequirements = ["x @ https://h.example/x-1.0.tar.gz#egg=x"]\n',
        path=Path("/p/envspec.toml"),
    )
    assert dict(spec.sources) == {"x": Source(url="https://h.example/x-1.0.tar.gz")}


# ── parse_direct_url ───────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "url", "sha256"),
    [
        ("http://h.example/x-1.0.tar.gz", "http://h.example/x-1.0.tar.gz", None),
        (
            "https://h.example/p/x-1.0-py3-none-any.whl",
            "https://h.example/p/x-1.0-py3-none-any.whl",
            None,
        ),
        (
            "file:///opt/wheels/x-1.0-py3-none-any.whl",
            "file:///opt/wheels/x-1.0-py3-none-any.whl",
            None,
        ),
        (f"https://h.example/x-1.0.tar.gz#sha256={SHA}", "https://h.example/x-1.0.tar.gz", SHA),
        (
            f"https://h.example/x-1.0.tar.gz#sha256={SHA.upper()}",
            "https://h.example/x-1.0.tar.gz",
            SHA,
        ),
        ("https://h.example/x-1.0.tar.gz#egg=x", "https://h.example/x-1.0.tar.gz", None),
        (f"https://h.example/x.zip#egg=x&sha256={SHA}", "https://h.example/x.zip", SHA),
    ],
)
def test_accepted_urls_lose_their_fragment_and_keep_the_sha256(
    text: str, url: str, sha256: str | None
) -> None:
    assert parse_direct_url(text) == (url, sha256)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("./libs/mylib", ["is a path, not a URL", "[sources]"]),
        ("libs/mylib", ["is a path, not a URL", "[sources]"]),
        ("C:\\wheels\\x-1.0-py3-none-any.whl", ["is a path, not a URL", "[sources]"]),
        ("git+https://h.example/x.git", ["'git+https'", "version-control"]),
        ("hg+https://h.example/x", ["'hg+https'", "version-control"]),
        ("ftp://h.example/x-1.0.tar.gz", ["'ftp'"]),
        ("file:relative/x.whl", ["no absolute path"]),
        ("https:///x-1.0.tar.gz", ["no host"]),
        ("https://h.example/x-1.0.tar.gz#sha256=abc", ["malformed #sha256="]),
        (f"https://h.example/x-1.0.tar.gz#sha256={SHA}0", ["malformed #sha256="]),
        ("https://h.example/x-1.0.tar.gz#md5=0123", ["#md5=", "sha256 only"]),
        ("https://h.example/x-1.0.tar.gz#subdirectory=pkg", ["unsupported fragment"]),
        ("https://h.example/x 1.0.tar.gz", ["whitespace"]),
    ],
)
def test_refused_urls_say_why_and_quote_the_input(text: str, words: list[str]) -> None:
    with pytest.raises(ValueError) as caught:
        parse_direct_url(text)
    message = str(caught.value)
    assert repr(text) in message
    for word in words:
        assert word in message


def test_a_refused_url_in_a_requirement_is_a_spec_problem_at_that_requirement() -> None:
    text = 'python = ">=3.11"\nrequirements = [\n  "ok",\n  "x @ git+https://h.example/x.git",\n]\n'
    with pytest.raises(SpecError) as caught:
        parse_spec(text, path=Path("envspec.toml"))
    (problem,) = caught.value.problems
    assert (problem.key_path, problem.line) == ("requirements[1]", 4)
    assert "version-control" in problem.message
    assert caught.value.exit_code == EXIT_USER


# ── pyproject.toml [tool.envspec.sources] ──────────────────────────────────────────────────────

_PYPROJECT = f"""\
[project]
name = "app"
version = "1"
requires-python = ">=3.11"
dependencies = [
  "mylib",
  "vendored>=1",
  "tool @ https://example.com/dist/tool-2.0-py3-none-any.whl#sha256={SHA}",
]

[dependency-groups]
dev = ["devtools"]

[tool.envspec.sources]
mylib = {{ path = "libs/mylib", editable = true }}
vendored = {{ path = "../wheels/vendored-1.0-py3-none-any.whl" }}
devtools = {{ url = "https://example.com/devtools-0.1.tar.gz" }}
"""


def test_pyproject_sources_are_the_same_as_envspec_toml_sources() -> None:
    from_pyproject = parse_pyproject_spec(_PYPROJECT, path=Path("/p/pyproject.toml"))
    from_spec = load_spec(SPECS / "valid" / "sources.toml")
    assert dict(from_pyproject.sources) == dict(from_spec.sources)


def test_pyproject_source_errors_are_located_under_tool_envspec_sources() -> None:
    text = _PYPROJECT.replace(
        'devtools = { url = "https://example.com/devtools-0.1.tar.gz" }',
        'devtools = { url = "https://example.com/devtools-0.1.tar.gz", editable = true }\n'
        'orphan = { path = "libs/orphan" }\n'
        'both = { path = "x", url = "https://example.com/x.tar.gz" }',
    )
    with pytest.raises(SpecError) as caught:
        parse_pyproject_spec(text, path=Path("pyproject.toml"))
    located = {(p.key_path, p.line) for p in caught.value.problems}
    lines = text.splitlines()
    line_of = {
        key: 1 + next(i for i, line in enumerate(lines) if line.startswith(key))
        for key in ("devtools =", "orphan =", "both =")
    }
    assert ("tool.envspec.sources.devtools.editable", line_of["devtools ="]) in located
    assert ("tool.envspec.sources.orphan", line_of["orphan ="]) in located
    assert ("tool.envspec.sources.both", line_of["both ="]) in located
    messages = " ".join(p.message for p in caught.value.problems)
    assert "only a local directory can be editable" in messages
    assert "needs exactly one of 'path' and 'url'" in messages
    assert "no requirement names" in messages
