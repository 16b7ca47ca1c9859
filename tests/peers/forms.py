"""Browser-less logins at the peers: HTML forms read with the standard library."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class Form:
    """One <form>: where it posts and its named inputs with their values."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif self.forms and tag in ("input", "button", "textarea", "select"):
            name = a.get("name")
            if not name:
                return
            kind = a.get("type", "submit" if tag == "button" else "text")
            if kind == "submit":
                self.forms[-1].buttons[name] = a.get("value", "")
            elif kind in ("checkbox", "radio") and "checked" not in a:
                return
            else:
                self.forms[-1].fields[name] = a.get("value", "")


def forms(html: str, page_url: str) -> list[Form]:
    """The page's forms, with actions made absolute (empty action: the page itself)."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(page_url, form.action) if form.action else page_url
    return parser.forms
