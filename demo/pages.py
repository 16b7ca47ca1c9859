"""The provider's small HTML pages (login, consent, device code, admin)."""

from __future__ import annotations

from html import escape

from .config import SCOPES

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
