"""The Korean catalogue covers every English msgid of the admin web, and English falls back to the msgid."""

from __future__ import annotations

import re
from pathlib import Path

from opensupport.server import i18n
from opensupport.server.options import OPTIONS

SERVER = Path(i18n.__file__).resolve().parent
# the records helper's pages have their own catalogue and their own test
OTHERS = ("records", "stats", "export", "relay")
MSGID = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _msgids() -> set[str]:
    found: set[str] = set()
    files = list(SERVER.rglob("*.py")) + list((SERVER / "web" / "templates").rglob("*.html"))
    for path in files:
        relative = path.relative_to(SERVER).as_posix()
        if any(part in relative for part in OTHERS):
            continue
        for match in MSGID.finditer(path.read_text(encoding="utf-8")):
            found.add((match.group(1) if match.group(1) is not None else match.group(2)).replace("\\'", "'"))
    for option in OPTIONS:
        found.update((option.label, option.description))
    return found


def test_every_msgid_has_a_korean_translation() -> None:
    ids = _msgids()
    assert len(ids) > 200
    with i18n.use_language("ko"):
        missing = sorted(m for m in ids if i18n.gettext(m) == m)
    assert missing == []


def test_labels_are_the_manuals() -> None:
    with i18n.use_language("ko"):
        assert i18n.gettext("Remote support management") == "원격지원관리"
        assert i18n.gettext("This ID is available.") == "사용할 수 있는 아이디입니다."
        assert i18n.gettext("Forced agent login") == "상담원 강제 로그인"
        assert (
            i18n.gettext("Available: {available} (total {total})").format(available=2, total=3)
            == "생성 가능 수 2 (전체 3)"
        )
    with i18n.use_language("en"):
        assert i18n.gettext("Remote support management") == "Remote support management"


def test_negotiation() -> None:
    assert i18n.negotiate("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert i18n.negotiate("ko-KR,ko;q=0.9,en;q=0.8") == "ko"
    assert i18n.negotiate("fr-FR, de;q=0.5") == "ko"
    assert i18n.negotiate("en;q=0.1, ko;q=0.9") == "ko"
    assert i18n.negotiate("garbage;;q=x,,") == "ko"
