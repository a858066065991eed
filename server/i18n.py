"""Translations: gettext catalogues under ``server/locale/<lang>/LC_MESSAGES/*.po``, Korean by default.

msgids are English. Every ``.po`` file of a language folder is read (each part of the server owns its own
domain file, e.g. ``messages.po``, ``records.po``) and merged into one catalogue, compiled in memory with
Babel when first needed, so no build step produces ``.mo`` files. The language of the request being served
is held in a context variable set by the request middleware; ``_()`` translates into it, in Python and in
templates alike.
"""

from __future__ import annotations

import gettext as _gettext
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: languages offered, in the order of the switch; the first is the default
LANGUAGES: tuple[str, ...] = ("ko", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]
#: cookie holding the language chosen with the switch
LANGUAGE_COOKIE = "os_lang"

_current: ContextVar[str] = ContextVar("opensupport_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The merged catalogue of ``language`` (every .po of its folder), compiled once per process."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    merged = Catalog(locale=language)
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=language)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                merged[message.id] = message
    if len(merged) == 0:
        return _gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def current_language() -> str:
    """The language of the request being served (the default outside a request)."""
    return _current.get()


def set_language(language: str) -> None:
    """Make ``language`` (one of :data:`LANGUAGES`) the current one; raises ``ValueError`` otherwise."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    _current.set(language)


def activate(language: str) -> Token[str]:
    """Make ``language`` current until :func:`deactivate` with the returned token (the middleware's job)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    return _current.set(language)


def deactivate(token: Token[str]) -> None:
    """Undo the matching :func:`activate`."""
    _current.reset(token)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Translate into ``language`` inside the ``with`` block."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` (an English msgid) in the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header, else the default."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        try:
            code = Locale.parse(tag.strip().replace("-", "_")).language if tag.strip() != "*" else ""
        except (ValueError, UnknownLocaleError):
            continue
        weighted.append((-quality, index, code))
    for _q, _i, code in sorted(weighted):
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE
