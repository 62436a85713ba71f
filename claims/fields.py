"""What the forms are built from and render with: the renderer and its field templates,
and the project's own fields and widgets.

Templates render fields (``{{ form.title.as_field_group }}``) through the renderer's
field template, never inputs of their own; widget templates live in
``templates/claims/widgets/``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.functional import Promise
from django.utils.safestring import SafeString


class BoundField(forms.BoundField):
    @property
    def optional(self) -> bool:
        """Whether a person may leave the field empty, which its label then says: it is not
        required, and it is not a list whose every choice is a value (a role list). A
        form of filters, every field of which is optional (``marks_optional = False``),
        says it of none, and neither is a field needed in some cases said to be
        (``sometimes_required``: one of a link, a file or a pasted text)."""
        if self.field.required or not getattr(self.form, "marks_optional", True):
            return False
        if self.name in getattr(self.form, "sometimes_required", ()):
            return False
        choices = getattr(self.field, "choices", None)
        return choices is None or any(value in ("", None) for value, _label in choices)


class FormRenderer(TemplatesSetting):
    """Form templates come from TEMPLATES (``templates/`` before Django's own), and each
    field renders (label, widget, help, errors) through one field template.

    A widget's markup depends on its context alone, plain values (its name, value and
    attributes), and the claim panel shows the same few widgets again and again (a verdict
    form of four buttons takes a millisecond through the templates): each is rendered once
    per distinct context, then taken from a bounded cache. Field templates, whose context
    holds the bound field, hidden inputs (one-time tokens) and long typed values are
    rendered each time."""

    field_template_name = "claims/includes/field.html"
    bound_field_class = BoundField

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget")
        if (
            request is not None
            or not isinstance(widget, dict)
            or widget.get("is_hidden")
            or len(str(widget.get("value") or "")) > CACHED_VALUE_CHARS  # a long text typed
        ):
            return super().render(template_name, context, request)
        try:
            key = (template_name, _frozen(context))
        except _Unfit:
            return super().render(template_name, context, request)
        markup = _RENDERED.get(key)
        if markup is None:
            markup = super().render(template_name, context, request)
            if len(_RENDERED) >= RENDERED_KEPT:
                _RENDERED.clear()
            _RENDERED[key] = markup
        return markup


RENDERED_KEPT = 500  # widgets' markup kept per process: a megabyte at most
CACHED_VALUE_CHARS = 200
_RENDERED: dict[tuple[str, Any], str] = {}
# Values a widget's context holds, by exact type: kept as they are, or with their type where
# equal values render differently (True, 1 and 1.0; a safe string and the same plain one).
_PLAIN = {str, int, type(None)}
_TYPED = {bool, float, SafeString, dt.date, dt.datetime}


class _Unfit(Exception):
    """A context with a value that cannot be compared as a cache key."""


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key that equals another only where both render the same."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return ("d", *((name, _frozen(item)) for name, item in value.items()))
    if kind is list or kind is tuple:
        return ("l", *(_frozen(item) for item in value))
    if kind in _TYPED:
        return (kind, value)
    if isinstance(value, Promise):
        # A lazy text (Django's blank choice, a translated label) renders as it reads now:
        # a plain or a safe string, told apart as any other.
        return _frozen(str(value))
    raise _Unfit


class CompactRenderer(FormRenderer):
    """The claim panel's and the queue's forms: each label right above its widget, and
    nothing marked optional (their labels say it where it matters)."""

    field_template_name = "claims/includes/compact_field.html"


class Textarea(forms.Textarea):
    """A textarea whose text starts right after its tag.

    Django's writes a newline first, which the HTML parser drops, so that a value that
    starts with a newline keeps it; only such a value needs one, and without it the
    markup holds the text exactly, as the hand-written fields these replace did.
    """

    template_name = "claims/widgets/textarea.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        text = context["widget"]["value"] or ""
        context["widget"]["newline"] = text[:1] in ("\n", "\r")
        return context


class SubmitButtons(forms.RadioSelect):
    """A choice made by pressing one of a group of submit buttons, each sending its value.

    ``buttons`` holds each choice's own attributes (its class; ``data-key``, the key that
    presses it, shown beside its label). Every choice but ``undo`` says whether it is the
    one that stands (``aria-pressed``); ``undo``, which takes back what stands, is
    disabled while nothing does.
    """

    template_name = "claims/widgets/buttons.html"
    option_template_name = "claims/widgets/button.html"
    option_inherits_attrs = False

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        buttons: dict[str, dict[str, Any]],
        undo: str,
    ) -> None:
        super().__init__({"role": "group", **(attrs or {})})
        self.buttons, self.undo = buttons, undo

    def use_required_attribute(self, initial: Any) -> bool:
        return False  # a group of buttons has no value to require

    def optgroups(self, name: str, value: list[str], attrs: dict[str, Any] | None = None) -> Any:
        groups = super().optgroups(name, value, attrs)
        stands = any(value)
        for _group, options, _index in groups:
            for option in options:
                own = dict(self.buttons.get(option["value"], {}))
                if option["value"] == self.undo:
                    own["disabled"] = not stands
                else:
                    own["aria-pressed"] = "true" if option["selected"] else "false"
                option["attrs"], option["key"] = own, own.get("data-key", "")
        return groups


class Standing:
    """A field that shows what stands (its initial value), never what was posted.

    A refused form is shown again as typed, but a version shown again must be the one now
    current, so that saving again is a deliberate choice over what is there, not a
    second conflict; and a pressed button holds nothing typed. ``shown_again`` gives
    a refused form what stands.
    """

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial


class VersionField(Standing, forms.IntegerField):
    """The version a change is made against (optimistic concurrency), in a hidden input."""

    widget = forms.HiddenInput


class ButtonChoiceField(Standing, forms.ChoiceField):
    """A choice made with ``SubmitButtons``, showing which choice stands."""


def shown_again[F: forms.BaseForm](form: F, **standing: Any) -> F:
    """A refused ``form``, to be shown again over what ``standing`` says stands now: its
    ``Standing`` fields show that; the rest keep what was typed, with their errors.
    (Before it is rendered: a rendered field keeps the initial value it first read.)"""
    form.initial = {**form.initial, **standing}
    return form
