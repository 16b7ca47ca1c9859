"""The provider's small HTML pages (login, consent, device code, admin)."""

from __future__ import annotations

from html import escape
import json
from typing import Any

from .config import SCOPES

MESSAGES_SHOWN = 10

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}form{margin:1rem 0}label{display:block;margin:.4rem 0}
input[type=text],input[type=password]{font-size:1rem;padding:.3rem;width:16rem}
button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}.error{color:#b00}
code{background:#eee;padding:0 .2rem}table{border-collapse:collapse}td,th{padding:.2rem .6rem;
border-bottom:1px solid #ddd;text-align:left}.hint{color:#666;font-size:.9rem}
"""


def page(title: str, body: str) -> str:
    """Wrap a body in the common layout."""
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<meta name=viewport content='width=device-width'><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def login_page(action: str, next_url: str, error: str | None = None) -> str:
    """Username/password form."""
    err = f"<p class=error>{escape(error)}</p>" if error else ""
    return page(
        "Sign in to the demo provider",
        f"""{err}<form method=post action="{escape(action)}">
<input type=hidden name=next value="{escape(next_url)}">
<label>Username <input type=text name=username autocomplete=username autofocus></label>
<label>Password <input type=password name=password autocomplete=current-password></label>
<button type=submit>Sign in</button></form>
<p class=hint>Test user: <code>demo</code> / <code>demo</code></p>""",
    )


def scope_checkboxes(scope: str) -> str:
    """One ticked checkbox per requested scope."""
    items = []
    for name in scope.split():
        text = SCOPES.get(name, name)
        items.append(
            f"<label><input type=checkbox name=grant_scope value='{escape(name)}' checked> "
            f"<code>{escape(name)}</code> {escape(text)}</label>"
        )
    return "".join(items)


def consent_page(
    *,
    action: str,
    client_name: str,
    username: str,
    scope: str,
    csrf: str,
    extra: str = "",
) -> str:
    """Allow/deny page listing the requested scopes."""
    return page(
        "Authorize access",
        f"""<p><b>{escape(client_name)}</b> wants to access your account
<b>{escape(username)}</b>.</p>
<form method=post action="{escape(action)}">
<input type=hidden name=csrf value="{escape(csrf)}">{extra}
{scope_checkboxes(scope)}
<p><button type=submit name=decision value=allow>Allow</button>
<button type=submit name=decision value=deny>Deny</button></p></form>""",
    )


def device_entry_page(action: str, csrf: str, error: str | None = None) -> str:
    """Form asking for the code shown on the device."""
    err = f"<p class=error>{escape(error)}</p>" if error else ""
    return page(
        "Connect a device",
        f"""{err}<form method=post action="{escape(action)}">
<input type=hidden name=csrf value="{escape(csrf)}">
<label>Code shown on your device <input type=text name=user_code autofocus></label>
<button type=submit>Continue</button></form>""",
    )


def message_page(title: str, text: str, status_class: str = "") -> str:
    """A simple page with one message."""
    return page(title, f"<p class='{status_class}'>{escape(text)}</p>")


def lamp_section(lamp: dict[str, Any]) -> str:
    """The lamp's state (as ``GET /api/lamp`` shows it)."""
    state = "on" if lamp["on"] else "off"
    return (
        f"<h2>Lamp</h2><p>The lamp is <b>{state}</b>, brightness "
        f"{escape(str(lamp['brightness']))} % (changed {escape(lamp['changed_at'])}).</p>"
        "<p class=hint><code>GET /api/lamp</code>, <code>PUT /api/lamp</code> with "
        '<code>{"on": true}</code>, <code>POST /api/lamp/toggle</code>.</p>'
    )


def messages_section(messages: list[dict[str, Any]], requests_url: str) -> str:
    """The newest messages (user text, all escaped) and where to see every write request."""
    rows = "".join(
        f"<tr><td>{escape(m['received_at'])}</td><td>{escape(str(m['title'] or ''))}</td>"
        f"<td>{escape(m['message'])}</td><td>{escape(m['source'])}</td>"
        f"<td>{escape(json.dumps(m['extra'], ensure_ascii=False)) if m['extra'] else ''}"
        "</td></tr>"
        for m in messages[:MESSAGES_SHOWN]
    )
    table = (
        "<table><tr><th>Received</th><th>Title</th><th>Message</th><th>As</th>"
        f"<th>Other fields</th></tr>{rows}</table>"
        if rows
        else "<p>No messages yet.</p>"
    )
    return (
        f"<h2>Messages</h2>{table}<p class=hint>The newest "
        f"{min(MESSAGES_SHOWN, len(messages))} of {len(messages)} "
        "(<code>GET /api/messages</code>); <code>POST /api/messages</code> adds one. Every write "
        f'request the API saw: <a href="{escape(requests_url)}">/demo/requests</a>.</p>'
    )
