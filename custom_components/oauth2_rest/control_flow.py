"""The ``control`` subentry flow: a switch, a button or a notify entity on the API.

Its steps only: the forms and what they map to are in ``flow/control_forms.py``,
the test (a request sent on demand) in ``flow/command_test.py``, the steps of a
control from a recipe in ``flow/control_recipe_steps.py``.

Steps (add and reconfigure share them; reconfigure keeps the kind):

1. ``user``: a menu of the kinds: ``switch``, ``button``, ``notify``, or
   ``recipe``: a control of a recipe for the account's provider (its forms come
   pre-filled; ``recipe_scopes`` names the scopes the account lacks);
2. the kind's own form: name, timeout and TLS (turning verification off asks
   for a confirmation, ``insecure``); a notification's also says where the
   message goes (JSON body, form body or query; parameter names; ``data``);
3. its requests, one form each, checked as an endpoint's request is (the URL
   must be one the token may go to): ``turn_on`` and ``turn_off``, ``press``,
   or ``send``;
4. a switch's state (a menu): ``state_endpoint`` (an ``is_on`` template over one
   of the account's endpoints), ``state_request`` (its own, polled), or
   ``state_none`` (assumed);
5. ``test``: send one of the requests now and see the answer (and a switch's
   state as it will read it), as often as wanted; then save.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, override

from homeassistant.config_entries import ConfigEntryState, SubentryFlowResult
from homeassistant.const import CONF_SCAN_INTERVAL

from .api import entry_origin_policy, entry_profile
from .control import (
    CONF_IS_ON_TEMPLATE,
    CONF_STATE_ENDPOINT,
    KIND_BUTTON,
    KIND_NOTIFY,
    KIND_SWITCH,
    PRESS,
    SEND,
    STATE,
    STATE_FROM_ENDPOINT,
    STATE_FROM_REQUEST,
    STATE_UNKNOWN,
    TURN_OFF,
    TURN_ON,
    ControlConfig,
    RequestConfig,
)
from .endpoint import SUBENTRY_TYPE_ENDPOINT
from .flow.command_test import CommandTest, async_state_text
from .flow.control_forms import (
    COMMAND_SCHEMA,
    CONF_MESSAGE,
    CONF_TEST,
    CONF_TITLE,
    CONTROL_SCHEMA,
    MESSAGE_SCHEMA,
    NOTIFY_SCHEMA,
    STATE_REQUEST_SCHEMA,
    TEST_NOTHING,
    async_validate_control,
    control_form_values,
    request_form_values,
    scan_interval,
    state_endpoint_schema,
    test_schema,
    validate_command,
)
from .flow.control_recipe_steps import ControlRecipeSteps

# The request forms of each kind, in order.
_REQUESTS = {
    KIND_SWITCH: (TURN_ON, TURN_OFF),
    KIND_BUTTON: (PRESS,),
    KIND_NOTIFY: (SEND,),
}


class ControlSubentryFlow(ControlRecipeSteps):
    """Add or edit a switch, a button or a notify entity of an account."""

    def __init__(self) -> None:
        """Start with nothing defined."""
        self._control: ControlConfig | None = None
        self._test = CommandTest()
        # The scopes a recipe's control needs that the account lacks.
        self._missing_scopes: list[str] = []

    # -- helpers ---------------------------------------------------------------

    @property
    def _is_reconfigure(self) -> bool:
        return bool(self.source == "reconfigure")

    def _endpoints(self) -> dict[str, str]:
        """The account's endpoints a switch may read its state from: id → name."""
        return {
            subentry.subentry_id: subentry.title
            for subentry in self._entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_TYPE_ENDPOINT
        }

    @override
    async def _async_control_step(
        self, kind: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """A kind's own form (``switch``, ``button``, ``notify``)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, control = await async_validate_control(self.hass, kind, user_input)
            if control is not None:
                kept = self._control.requests if self._control else {}
                self._control = replace(control, requests=kept)
                if not control.verify_ssl:
                    return await self.async_step_insecure()
                return await self._async_next_request()
        return self.async_show_form(
            step_id=kind,
            data_schema=self.add_suggested_values_to_schema(
                NOTIFY_SCHEMA if kind == KIND_NOTIFY else CONTROL_SCHEMA,
                user_input or control_form_values(self._control),
            ),
            errors=errors,
        )

    async def _async_next_request(self, after: str | None = None) -> SubentryFlowResult:
        """The request form after ``after`` (the first one when None), then the state."""
        assert self._control is not None
        order = _REQUESTS[self._control.kind]
        index = 0 if after is None else order.index(after) + 1
        if index < len(order):
            return await self._async_request_step(order[index], None)
        if self._control.kind == KIND_SWITCH:
            return await self.async_step_state()
        return await self.async_step_test()

    async def _async_request_step(
        self, which: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """One request's form (``turn_on``, ``turn_off``, ``press``, ``send``)."""
        assert self._control is not None
        errors: dict[str, str] = {}
        schema = MESSAGE_SCHEMA if which == SEND else COMMAND_SCHEMA
        if user_input is not None:
            errors, request = validate_command(
                self.hass, entry_origin_policy(self._entry), user_input
            )
            if request is not None:
                self._set_request(which, request)
                return await self._async_next_request(after=which)
        return self.async_show_form(
            step_id=which,
            data_schema=self.add_suggested_values_to_schema(
                schema,
                user_input or request_form_values(self._control.requests.get(which)),
            ),
            description_placeholders={
                "api_base_url": entry_profile(self._entry).api_base
            },
            errors=errors,
        )

    def _set_request(self, which: str, request: RequestConfig | None) -> None:
        assert self._control is not None
        requests = dict(self._control.requests)
        if request is None:
            requests.pop(which, None)
        else:
            requests[which] = request
        self._control = replace(self._control, requests=requests)

    # -- steps -------------------------------------------------------------------

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Which kind of control, or one from a recipe of the account's provider."""
        options = [KIND_SWITCH, KIND_BUTTON, KIND_NOTIFY]
        if await self._async_recipe_controls():
            options.append("recipe")
        return self.async_show_menu(step_id="user", menu_options=options)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit a control: its kind's forms, pre-filled."""
        self._control = ControlConfig.from_subentry(self._get_reconfigure_subentry())
        return await self._async_control_step(self._control.kind, None)

    async def async_step_switch(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A switch: name, timeout, TLS."""
        return await self._async_control_step(KIND_SWITCH, user_input)

    async def async_step_button(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A button: name, timeout, TLS."""
        return await self._async_control_step(KIND_BUTTON, user_input)

    async def async_step_notify(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A notify entity: name, where the message goes, timeout, TLS."""
        return await self._async_control_step(KIND_NOTIFY, user_input)

    async def async_step_insecure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """TLS verification is off: say what that means, go on only if asked to."""
        assert self._control is not None
        return self.async_show_menu(
            step_id="insecure",
            menu_options=["requests", self._control.kind],
            description_placeholders={"name": self._control.name},
        )

    async def async_step_requests(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Go on to the requests (verification off, as confirmed)."""
        return await self._async_next_request()

    async def async_step_turn_on(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A switch's turn-on request."""
        return await self._async_request_step(TURN_ON, user_input)

    async def async_step_turn_off(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A switch's turn-off request."""
        return await self._async_request_step(TURN_OFF, user_input)

    async def async_step_press(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A button's request."""
        return await self._async_request_step(PRESS, user_input)

    async def async_step_send(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A notification's request."""
        return await self._async_request_step(SEND, user_input)

    async def async_step_state(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Where the switch's state comes from."""
        options = ["state_request", "state_none"]
        if self._endpoints():
            options.insert(0, "state_endpoint")
        return self.async_show_menu(step_id="state", menu_options=options)

    async def async_step_state_endpoint(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The state from one of the account's endpoints: no extra polling."""
        assert self._control is not None
        endpoints = self._endpoints()
        errors: dict[str, str] = {}
        if user_input is not None:
            # The template's syntax is the selector's to check.
            if user_input[CONF_STATE_ENDPOINT] not in endpoints:
                errors[CONF_STATE_ENDPOINT] = "endpoint_gone"
            else:
                self._set_request(STATE, None)
                self._control = replace(
                    self._control,
                    state_source=STATE_FROM_ENDPOINT,
                    state_endpoint=user_input[CONF_STATE_ENDPOINT],
                    is_on_template=user_input[CONF_IS_ON_TEMPLATE],
                )
                return await self.async_step_test()
        control = self._control
        return self.async_show_form(
            step_id="state_endpoint",
            data_schema=self.add_suggested_values_to_schema(
                state_endpoint_schema(endpoints),
                user_input
                or {
                    CONF_STATE_ENDPOINT: control.state_endpoint,
                    CONF_IS_ON_TEMPLATE: control.is_on_template or "",
                },
            ),
            errors=errors,
        )

    async def async_step_state_request(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The state from a request of its own, polled as an endpoint."""
        assert self._control is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, request = validate_command(
                self.hass, entry_origin_policy(self._entry), user_input, method="GET"
            )
            if request is not None:
                self._set_request(STATE, request)
                self._control = replace(
                    self._control,
                    state_source=STATE_FROM_REQUEST,
                    state_endpoint=None,
                    is_on_template=user_input[CONF_IS_ON_TEMPLATE],
                    scan_interval=scan_interval(user_input),
                )
                return await self.async_step_test()
        control = self._control
        return self.async_show_form(
            step_id="state_request",
            data_schema=self.add_suggested_values_to_schema(
                STATE_REQUEST_SCHEMA,
                user_input
                or {
                    **request_form_values(control.requests.get(STATE)),
                    CONF_IS_ON_TEMPLATE: control.is_on_template or "",
                    CONF_SCAN_INTERVAL: int(control.scan_interval.total_seconds()),
                },
            ),
            description_placeholders={
                "api_base_url": entry_profile(self._entry).api_base
            },
            errors=errors,
        )

    async def async_step_state_none(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """No state source: the switch assumes what it last sent."""
        assert self._control is not None
        self._set_request(STATE, None)
        self._control = replace(
            self._control,
            state_source=STATE_UNKNOWN,
            state_endpoint=None,
            is_on_template=None,
        )
        return await self.async_step_test()

    async def async_step_test(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Send a request now and see its answer, or save."""
        control = self._control
        assert control is not None
        if self._entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        account = self._entry.runtime_data.account
        if user_input is not None:
            which = user_input[CONF_TEST]
            if which == TEST_NOTHING:
                return self._async_finish()
            await self._test.async_send(
                self.hass,
                account.auth,
                control,
                which,
                user_input.get(CONF_MESSAGE) or "",
                user_input.get(CONF_TITLE) or None,
            )
            # As after a command of the running switch: its endpoint polls now.
            state_endpoint = self._entry.runtime_data.endpoints.get(
                control.state_endpoint or ""
            )
            if (
                self._test.response is not None
                and control.state_source == STATE_FROM_ENDPOINT
                and state_endpoint is not None
            ):
                await state_endpoint.async_poll_now()
        state = (
            await async_state_text(
                self.hass,
                account.auth,
                control,
                self._entry.runtime_data.endpoints,
                account.secrets,
            )
            if control.kind == KIND_SWITCH
            else "—"
        )
        return self.async_show_form(
            step_id="test",
            data_schema=self.add_suggested_values_to_schema(
                test_schema(control.commands, control.kind == KIND_NOTIFY),
                {**(user_input or {}), CONF_TEST: TEST_NOTHING},
            ),
            description_placeholders={
                "name": control.name,
                "state": state,
                **self._test.placeholders(account.secrets),
            },
            errors={"base": self._test.failure.key} if self._test.failure else None,
        )

    def _async_finish(self) -> SubentryFlowResult:
        """Save the control."""
        control = self._control
        assert control is not None
        # Only the requests of its kind (and a switch's own state request).
        keep = set(_REQUESTS[control.kind])
        if control.state_source == STATE_FROM_REQUEST:
            keep.add(STATE)
        control = replace(
            control,
            requests={k: v for k, v in control.requests.items() if k in keep},
        )
        if self._is_reconfigure:
            return self.async_update_and_abort(
                self._entry,
                self._get_reconfigure_subentry(),
                title=control.name,
                data=control.to_data(),
            )
        return self.async_create_entry(title=control.name, data=control.to_data())
