"""Secrets are a type: ``Sensitive`` values print as ``[REDACTED]``, and a process-wide
redactor scrubs every registered secret out of text at the output boundaries
(error messages, console output, result reports, plans).

Two layers on purpose: ``Sensitive`` stops a value from being printed by accident, and
``redact`` catches the value after it was revealed and ended up inside some other text
(a subprocess's output, an exception message, a report).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote, unquote

from shipyard.github.commands import mask

if TYPE_CHECKING:
    from shipyard.core.project import Project

REDACTED = "[REDACTED]"
_MASK = "::add-mask::"  # GitHub Actions workflow command (see shipyard.github.commands.mask)

# Shorter values are not replaced inside other text: redacting every "true" or "1" in
# the output would garble it. A Sensitive value itself still prints as [REDACTED].
MIN_REDACT_LENGTH = 6

# A key is secret-marked when one of its words (split on _ - .) is one of these; whole
# words, so API_KEY and DB_PASSWORD are secret but MONKEY_COUNT or KEYCLOAK_URL are not.
SECRET_WORDS = frozenset({"SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASS", "TOKEN", "KEY", "APIKEY", "CREDENTIALS"})
_WORDS = re.compile(r"[_\-.]+")
# scheme://user:password@host — a URL that carries a password is a secret whatever its key.
_URL_PASSWORD = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/@:\s]*:[^/@\s]+@")


class Sensitive:
    """A secret string: prints as ``[REDACTED]`` everywhere; ``reveal()`` gives the value.

    Creating one registers the value with the redactor. Not a ``str`` subclass on
    purpose: concatenation, ``json.dumps`` and f-strings cannot leak it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Sensitive):
            value = value.reveal()
        object.__setattr__(self, "_value", value)
        register_secret(value)

    def reveal(self) -> str:
        """The secret value, for the one place that must hand it over (a container's env)."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Sensitive is immutable")

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Sensitive({REDACTED!r})"

    def __format__(self, spec: str) -> str:
        return format(REDACTED, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sensitive) and other.reveal() == self.reveal()

    def __hash__(self) -> int:
        return hash((Sensitive, self.reveal()))

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __copy__(self) -> Sensitive:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Sensitive:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # pickles end up in caches and files; a secret must not travel that way
        raise TypeError("Sensitive values are not pickled")


_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _variants(value: str) -> set[str]:
    """The value as it appears raw, inside JSON strings, in XML and in URLs, each line of a
    multi-line value (a PEM key printed line by line), and its derived forms (``_derived``)."""
    from xml.sax.saxutils import escape  # ~10 ms with urllib.request: only once a secret exists

    found: set[str] = set()
    for form in {value, *_derived(value)}:  # a password inside JSON or XML is escaped too
        found |= {form, json.dumps(form)[1:-1], escape(form, {'"': "&quot;"}), quote(form, safe="")}
    found.update(line.strip() for line in value.splitlines())
    return {v for v in found if len(v) >= MIN_REDACT_LENGTH}


def _derived(value: str) -> set[str]:
    """What else gives the secret away: for a URL with credentials, its password alone
    (as written, percent-decoded and -encoded) and its ``user:password`` (so the same
    credentials on another host or database are caught); base64 (standard and urlsafe,
    padded or not) of the value and of ``user:password`` (HTTP Basic, docker auth)."""
    found: set[str] = set()
    plain = [value]
    userinfo = _userinfo(value)
    if userinfo:
        user, _, password = userinfo.partition(":")
        decoded = f"{unquote(user)}:{unquote(password)}"
        found |= {userinfo, decoded, password, unquote(password), quote(unquote(password), safe="")}
        plain += [userinfo, decoded]
    for text in plain:
        found |= _base64_forms(text)
    return found


def _userinfo(value: str) -> str:
    """``user:password`` of a URL that carries a password, as written; "" otherwise."""
    found = _URL_PASSWORD.match(value)
    if not found:
        return ""
    return found.group(0).split("://", 1)[1][:-1]


def _base64_forms(text: str) -> set[str]:
    data = text.encode()
    forms = {base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()}
    return forms | {f.rstrip("=") for f in forms}


def register_secret(value: str) -> None:
    """Redact ``value`` (its JSON/XML/URL-escaped and derived forms too) from every output from now on;
    under GitHub Actions also ask the runner to mask it."""
    global _pattern
    if not isinstance(value, str) or len(value) < MIN_REDACT_LENGTH:
        return
    with _lock:
        new = _variants(value) - _secrets
        if not new:
            return
        _secrets.update(new)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))
    mask(value)
    for form in sorted(_derived(value) & new):
        mask(form)  # the runner's own masking misses the password alone, base64 and the like


def register_process_secrets(project: Project, environ: Mapping[str, str] | None = None) -> None:
    """Register the process-environment values of every service's ``secret-env`` keys and of
    the settings each environment's notifiers read their URLs from (shipyard's own secrets)."""
    from shipyard.deploy.notify import secret_keys

    environ = os.environ if environ is None else environ
    keys = {k for unit in project.services for k in unit.settings["secret-env"]}
    keys |= {k for env in project.settings["environments"].values() for k in secret_keys(env)}
    for key in sorted(keys):
        if environ.get(key):
            register_secret(environ[key])


def redact(text: str) -> str:
    """``text`` with every registered secret value replaced by ``[REDACTED]``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    if _MASK in text:  # the runner's own masking command must reach it intact
        return "".join(
            line if line.startswith(_MASK) else pattern.sub(REDACTED, line) for line in text.splitlines(keepends=True)
        )
    return pattern.sub(REDACTED, text)


def forget_all() -> None:
    """Clear the registry (tests only: a process's secrets stay registered for its lifetime)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


def looks_secret(key: str, value: str = "") -> bool:
    """Whether ``key`` is secret by name (SECRET_WORDS), or ``value`` is a URL with a password."""
    words = {w for w in _WORDS.split(key.upper()) if w}
    return bool(words & SECRET_WORDS) or bool(_URL_PASSWORD.match(value))


class RedactingStream:
    """A text stream that redacts whole lines before passing them to ``target``.

    Partial lines are held until their newline (or a flush) so a secret written in two
    pieces is still caught. Complete lines are flushed at once: a pipe (CI logs, `| tee`)
    would otherwise hold a deploy's progress until the process ends.
    """

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self._pending = ""
        self._lock = threading.Lock()
        self._gone = False  # the reader went away

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            head, sep, tail = self._pending.rpartition("\n")
            if sep:
                self._put(redact(head + sep))
                self._pending = tail
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._put(redact(self._pending) if self._pending else "")
            self._pending = ""

    def _put(self, text: str) -> None:
        """Write and flush; when the reader has gone (`invoke ... | head`), drop the output and
        go on: a deploy must not stop half-way because nobody reads its progress any more."""
        if self._gone:
            return
        try:
            if text:
                self.target.write(text)
            self.target.flush()
        except BrokenPipeError:
            self._gone = True
            _to_devnull(self.target)  # what the stream still buffers cannot fail at exit either

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


def _to_devnull(stream: TextIO) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a file descriptor: nothing to point elsewhere
        pass


@contextmanager
def redacting_output() -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through the redactor for the duration."""
    saved = sys.stdout, sys.stderr
    out, err = RedactingStream(saved[0]), RedactingStream(saved[1])
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = saved
