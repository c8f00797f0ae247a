"""The Sensitive type, the redactor, redacting output streams and the error boundary."""

from __future__ import annotations

import base64
import copy
import io
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.cli.console import guarded
from shipyard.core import secrets
from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import REDACTED, RedactingStream, Sensitive, looks_secret, redact, register_secret
from shipyard.run.results import FAILED, Result, summary_table, to_json, to_junit, write_report


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    secrets.forget_all()
    yield
    secrets.forget_all()


def test_sensitive_never_prints_its_value() -> None:
    value = Sensitive("hunter2-hunter2")
    assert str(value) == REDACTED
    assert repr(value) == "Sensitive('[REDACTED]')"
    assert f"{value}|{value:>12}|{value!r}" == "[REDACTED]|  [REDACTED]|Sensitive('[REDACTED]')"
    assert "%s" % value == REDACTED  # noqa: UP031 - the old formatting path too
    assert value.reveal() == "hunter2-hunter2"


def test_sensitive_is_a_value() -> None:
    assert Sensitive("abcdefgh") == Sensitive("abcdefgh")
    assert Sensitive("abcdefgh") != "abcdefgh"
    assert len({Sensitive("abcdefgh"), Sensitive("abcdefgh")}) == 1
    assert not Sensitive("")
    with pytest.raises(AttributeError):
        Sensitive("abcdefgh")._value = "x"  # type: ignore[misc]


def test_sensitive_does_not_travel_by_accident() -> None:
    value = Sensitive("travel-secret")
    with pytest.raises(TypeError):
        json.dumps({"v": value})
    with pytest.raises(TypeError):
        pickle.dumps(value)
    with pytest.raises(TypeError):
        "prefix " + value  # type: ignore[operator]
    assert copy.deepcopy({"v": value})["v"] is value


def test_creating_a_sensitive_registers_it() -> None:
    Sensitive("registered-by-type")
    assert redact("token registered-by-type here") == f"token {REDACTED} here"


def test_redact_catches_escaped_forms() -> None:
    register_secret('p@ss "word" & <more>/x')
    assert redact('{"v": "p@ss \\"word\\" & <more>/x"}') == '{"v": "[REDACTED]"}'
    assert redact("<e m='p@ss &quot;word&quot; &amp; &lt;more&gt;/x'/>") == f"<e m='{REDACTED}'/>"
    assert redact("https://h/?q=p%40ss%20%22word%22%20%26%20%3Cmore%3E%2Fx") == f"https://h/?q={REDACTED}"


def test_redact_prefers_the_longest_match_and_multiline_lines() -> None:
    register_secret("abcdef")
    register_secret("abcdefghij")
    assert redact("abcdefghij abcdef") == f"{REDACTED} {REDACTED}"
    register_secret("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END KEY-----")
    assert redact("line: MIIEvQIBADANBgkqhkiG9w0B") == f"line: {REDACTED}"


def test_short_values_are_not_redacted_inside_text() -> None:
    register_secret("true")
    assert redact("true or false") == "true or false"
    assert str(Sensitive("true")) == REDACTED


@pytest.mark.parametrize(
    ("key", "value", "secret"),
    [
        ("API_KEY", "", True),
        ("DB_PASSWORD", "", True),
        ("GITHUB_TOKEN", "", True),
        ("session-secret", "", True),
        ("MONKEY_COUNT", "", False),
        ("KEYCLOAK_URL", "", False),
        ("LOG_LEVEL", "debug", False),
        ("REDIS_URL", "redis://:pw-in-url@cache:6379/0", True),
        ("DATABASE_URL", "postgresql://app:s3cret@db/app", True),
        ("DATABASE_URL", "postgresql://db/app", False),
    ],
)
def test_looks_secret(key: str, value: str, secret: bool) -> None:
    assert looks_secret(key, value) is secret


def test_redacting_stream_joins_split_writes() -> None:
    register_secret("split-secret-value")
    target = io.StringIO()
    stream = RedactingStream(target)
    stream.write("a split-sec")
    stream.write("ret-value b\nnext split-secret")
    assert target.getvalue() == f"a {REDACTED} b\n"
    stream.write("-value")
    stream.flush()
    assert target.getvalue() == f"a {REDACTED} b\nnext {REDACTED}"


def test_redacting_stream_flushes_each_complete_line() -> None:
    class Target(io.StringIO):
        flushed: list[str] = []

        def flush(self) -> None:
            self.flushed.append(self.getvalue())

    target = Target()
    stream = RedactingStream(target)
    stream.write("waiting for the roll-out")
    assert target.flushed == []  # a partial line waits for its newline
    stream.write(" (1/2 tasks)\n")
    assert target.flushed == ["waiting for the roll-out (1/2 tasks)\n"]


def test_github_mask_command_passes_unredacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with secrets.redacting_output():
        Sensitive("masked-in-actions")
        print("value: masked-in-actions")
    out = capsys.readouterr().out
    # the runner is also asked to mask the derived forms (here: base64, with and without padding)
    masks = ["masked-in-actions", "bWFza2VkLWluLWFjdGlvbnM", "bWFza2VkLWluLWFjdGlvbnM="]
    assert out == "".join(f"::add-mask::{m}\n" for m in masks) + f"value: {REDACTED}\n"


def test_guarded_redacts_prints_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from invoke.exceptions import Exit

    value = Sensitive("boundary-secret")

    @guarded
    def task() -> None:
        print(f"connecting with {value.reveal()}")
        raise ShipyardError(f"refused {value.reveal()}", hint=f"try without {value.reveal()}")

    with pytest.raises(Exit):
        task()
    out, err = capsys.readouterr()
    assert out == f"connecting with {REDACTED}\n"
    assert err == f"error: refused {REDACTED}\nhint: try without {REDACTED}\n"


def test_guarded_redacts_unexpected_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from invoke.exceptions import Exit

    register_secret("unexpected-secret")

    @guarded
    def task() -> None:
        raise RuntimeError("boom unexpected-secret")

    with pytest.raises(Exit):
        task()
    assert "unexpected-secret" not in capsys.readouterr().err


def test_results_renderings_are_redacted(tmp_path: Path) -> None:
    register_secret('report-"secret"')
    result = Result(
        "api",
        "test",
        FAILED,
        reason='saw report-"secret"',
        output='env: report-"secret"\n',
        details={"token": Sensitive("details-secret")},
    )
    rendered = [to_json([result]), to_junit([result]), summary_table([result])]
    write_report(tmp_path / "r.json", [result])
    write_report(tmp_path / "r.xml", [result])
    rendered += [(tmp_path / "r.json").read_text(), (tmp_path / "r.xml").read_text()]
    for text in rendered:
        assert "report-" not in text and "details-secret" not in text
        assert REDACTED in text
    assert json.loads(rendered[0])["results"][0]["details"] == {"token": REDACTED}


URL = "postgresql://app:p%40ss-w0rd_9@db.internal:5432/orders"


@pytest.mark.parametrize(
    "shown",
    [
        "postgresql://app:p%40ss-w0rd_9@replica:5432/reports",  # same credentials, another db
        "password p%40ss-w0rd_9",  # the password alone, as written
        "password p@ss-w0rd_9",  # percent-decoded
        "userinfo app:p@ss-w0rd_9",
        "Authorization: Basic " + base64.b64encode(b"app:p@ss-w0rd_9").decode(),
        "auth " + base64.urlsafe_b64encode(URL.encode()).decode().rstrip("="),
        "auth " + base64.b64encode(URL.encode()).decode(),
    ],
)
def test_derived_forms_of_a_url_are_redacted(shown: str) -> None:
    secrets.register_secret(URL)
    assert not {"p%40ss-w0rd_9", "p@ss-w0rd_9"} & set(secrets.redact(shown).split()), secrets.redact(shown)
    assert REDACTED in secrets.redact(shown)


def test_base64_of_a_plain_value_is_redacted() -> None:
    value = "plain-secret-value-1"
    secrets.register_secret(value)
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(value.encode()).decode()
        assert secrets.redact(f"x {text} y") == f"x {REDACTED} y"
        assert secrets.redact(f"x {text.rstrip('=')} y") == f"x {REDACTED} y"


def test_process_webhook_is_registered(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.shipyard.environments.staging]\nslack-webhook = "HOOK"\n')
    from shipyard.core.project import load_project

    secrets.register_process_secrets(load_project(repo), {"HOOK": "https://hooks.slack.com/services/T/B/xyz"})
    assert secrets.redact("https://hooks.slack.com/services/T/B/xyz") == REDACTED


def test_a_password_with_quotes_is_redacted_inside_json() -> None:
    secrets.register_secret('postgresql://app:pa"ss\\word-7@db/orders')
    shown = json.dumps({"password": 'pa"ss\\word-7', "url": "postgresql://app:pa%22ss%5Cword-7@replica/reports"})
    assert secrets.redact(shown) == json.dumps(
        {"password": REDACTED, "url": f"postgresql://app:{REDACTED}@replica/reports"}
    )
