"""Forms for the pages that change things: importing an article, managing members, and the
claim panel's and the queue's verdicts, evidence and edits.

Forms turn what a person typed into arguments for the one write path (the importer,
``Project.set_member``, the claim verbs) and turn its refusals into errors a person can
read. Templates render their fields (``{{ form.title.as_field_group }}``), never inputs
of their own: the limits a field checks (length, required, type, choices) are the ones
the browser is told.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from claims import importer
from claims.fields import (
    ButtonChoiceField,
    CompactRenderer,
    SubmitButtons,
    Textarea,
    VersionField,
)
from claims.models import (
    LONG_TEXT,
    WEB_URL_VALIDATORS,
    Article,
    Conflict,
    Evidence,
    Member,
    Project,
    Role,
    Status,
)


class WebURLField(forms.URLField):
    """http and https only: a ``javascript:`` or ``file:`` link must never be stored."""

    default_error_messages = {
        "invalid": "Enter a web address that starts with http:// or https://."
    }
    default_validators = WEB_URL_VALIDATORS


class ArticleMetadataForm(forms.Form):
    """What a person may say about an article; anything left blank is read from the text."""

    published_on = forms.DateField(
        label="Publication date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Give the date the article was published.",
            "invalid": "Enter the publication date as YYYY-MM-DD.",
        },
    )
    title = forms.CharField(required=False, max_length=500)
    author = forms.CharField(required=False, max_length=300)
    publication = forms.CharField(required=False, max_length=300)
    source_url = WebURLField(
        label="Source URL", required=False, max_length=2000, assume_scheme="https"
    )

    def metadata(self) -> dict[str, Any]:
        keys = ("title", "author", "publication", "source_url")
        return {key: self.cleaned_data[key] for key in keys}


class ImportForm(ArticleMetadataForm):
    """Step one: an upload or pasted text, decoded and segmented into ``self.prepared``."""

    file = forms.FileField(
        required=False,
        help_text="A .txt, .md or .html file.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,.markdown,.html,.htm"}),
    )
    # strip=False: the stored text, and so its sha256, is exactly what was given.
    text = forms.CharField(label="Or paste the text", required=False, strip=False, widget=Textarea)

    field_order = ["file", "text", "published_on", "title", "author", "publication"]
    prepared: importer.Prepared | None = None

    def __init__(self, *args: Any, upload_refused: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set when the upload handler stopped reading an upload past the limit.
        self.upload_refused = upload_refused

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.upload_refused:
            self.add_error("file", self.upload_refused)
            return cleaned
        upload, text = cleaned.get("file"), cleaned.get("text") or ""
        if upload and text.strip():
            raise forms.ValidationError("Upload a file or paste the text, not both.")
        if not upload and not text.strip():
            if "file" not in self.errors and "text" not in self.errors:
                raise forms.ValidationError("Upload a file or paste the text of the article.")
            return cleaned
        if "published_on" in cleaned:
            field = "file" if upload else "text"
            try:
                self.prepared = self._prepare(upload, text, cleaned["published_on"])
            except importer.ImportRejected as exc:
                message = str(exc)
                if field == "text":
                    message = message.replace("The file", "The pasted text", 1)
                self.add_error(field, message)
        return cleaned

    @staticmethod
    def _prepare(upload: Any, text: str, published_on: dt.date) -> importer.Prepared:
        if upload is None:
            data, filename = text.encode("utf-8"), ""
        else:
            # Refuse from the declared size before reading; read_limited guards the rest.
            limit = importer.max_bytes()
            if upload.size > limit:
                raise importer.ImportRejected(
                    f"The file is {filesizeformat(upload.size)}, larger than the import "
                    f"limit of {filesizeformat(limit)}."
                )
            data, filename = importer.read_limited(upload, limit), upload.name
        return importer.prepare(data, filename=filename, published_on=published_on)

    def confirm_form(self) -> ConfirmImportForm:
        """The hidden form that carries the prepared text to step two."""
        assert self.prepared is not None
        return ConfirmImportForm(
            auto_id=False,  # its hidden inputs sit on the page beside the form they copy
            initial={
                **self.cleaned_data,
                "text": self.prepared.text,
                "filename": self.prepared.filename,
            },
        )


class ConfirmImportForm(ArticleMetadataForm):
    """Step two: the decoded text from the preview, with the metadata, in hidden fields."""

    text = forms.CharField(strip=False, widget=forms.HiddenInput)
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget = forms.HiddenInput()

    def import_into(self, project: Project, actor: Any) -> tuple[Article, bool]:
        """Import the text; the browser sends CRLF, which the importer normalises back."""
        return importer.import_article(
            project,
            self.cleaned_data["text"].encode("utf-8"),
            filename=self.cleaned_data["filename"],
            html=False,
            published_on=self.cleaned_data["published_on"],
            actor=actor,
            **self.metadata(),
        )


class MemberForm(forms.Form):
    """One change to a project's members: add someone, change a role, or remove someone.

    ``clean`` turns what a person typed into a user and a role and refuses what cannot
    apply; ``apply`` hands the change to the model, whose refusals (the last admin)
    become errors on the form. Nothing is written unless the change is made.
    ``acting`` is the member making the change; ``changed_own`` says whether it was to
    their own membership (they may have stepped down, or left).
    """

    ACTIONS = {"add": "Add", "role": "Change role", "remove": "Remove"}

    action = forms.ChoiceField(choices=ACTIONS.items(), widget=forms.HiddenInput)
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(
        choices=Role.choices,
        required=False,
        initial=Role.ANALYST,
        error_messages={"invalid_choice": "'%(value)s' is not a role; choose one from the list."},
    )

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting = member
        self.project: Project = member.project
        self.current: Role | None = None
        self.changed_own = False

    @classmethod
    def on_row(cls, acting: Member, action: str, membership: Any) -> MemberForm:
        """The small form on a member's row of the table: change their role, or remove them.
        Rows share the page, so no field has an id; the role list is labelled with the name,
        and the name goes as a hidden field (``{{ form.username.as_hidden }}``)."""
        name = membership.user.get_username()
        initial = {"action": action, "username": name, "role": membership.role}
        form = cls(acting, auto_id=False, initial=initial)
        form.fields["role"].widget.attrs["aria-label"] = f"Role for {name}"
        return form

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        action, name = cleaned.get("action"), cleaned.get("username")
        if action is None or not name or "role" in self.errors:
            return cleaned
        if action != "remove" and not cleaned.get("role"):
            self.add_error("role", "Choose a role.")
        user = get_user_model().objects.filter(username=name).first()
        self.current = self._role_of(user) if user is not None else None
        if action == "add":
            # Adding is the one action that must find an account outside the project.
            if user is None:
                self.add_error("username", f"There is no user named '{name}'.")
                return cleaned
            if self.current is not None:
                raise forms.ValidationError(
                    f"{name} is already a member ({self.current.label.lower()}); "
                    "change their role in the table instead."
                )
        elif user is None or self.current is None:
            # The same answer for an account elsewhere on the site and for no account.
            raise forms.ValidationError(f"{name} is not a member of this project.")
        cleaned["user"] = user
        return cleaned

    def _role_of(self, user: Any) -> Role | None:
        if user.pk == self.acting.user.pk:
            return self.acting.role  # read with the acting member's membership already
        return self.project.role_of(user)

    def apply(self) -> str | None:
        """Make the change and say what happened; on refusal add the reason and return None."""
        user, action = self.cleaned_data["user"], self.cleaned_data["action"]
        role, name = self.cleaned_data["role"], user.get_username()
        if action != "remove" and role == self.current:
            return f"{name} is already {Role(role).label.lower()}; nothing changed."
        try:
            if action == "remove":
                self.project.remove_member(user, actor=self.acting)
            else:
                self.project.set_member(user, role, actor=self.acting)
        except ValidationError as exc:
            self.add_error(None, exc)
            return None
        except Conflict as exc:
            self.add_error(None, str(exc))
            return None
        self.changed_own = user.pk == self.acting.user.pk
        if action == "remove":
            return f"Removed {name} from {self.project.name}."
        label = Role(role).label.lower()
        return f"Added {name} as {label}." if action == "add" else f"{name} is now {label}."


# The claim panel: verdicts, evidence, and reviewers' claim edits.

VERDICT_CHOICES = [*Status.choices, ("clear", "Clear")]


class VerdictForm(forms.Form):
    """The member's verdict on a claim: a button per status (the keys 1, 2, 3 and 0 press
    them, see app.js), a rationale, and for Outdated the date since when."""

    default_renderer = CompactRenderer

    status = ButtonChoiceField(
        choices=VERDICT_CHOICES,
        widget=SubmitButtons(
            {"class": "verdict-buttons", "aria-label": "Verdict"},
            buttons={
                "supported": {"class": "v-supported", "data-key": "1"},
                "disputed": {"class": "v-disputed", "data-key": "2"},
                "outdated": {"class": "v-outdated", "data-key": "3"},
                "clear": {"class": "secondary", "data-key": "0"},
            },
            undo="clear",
        ),
    )
    rationale = forms.CharField(required=False, max_length=LONG_TEXT, widget=Textarea({"rows": 3}))
    # The bounds of a "since" date are the model's (validate_since), checked by the verb.
    as_of = forms.DateField(
        required=False,
        label="Since (for Outdated, optional)",
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    version = VersionField(min_value=0)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # The "since" date belongs to an outdated verdict only; with another status it is
        # simply not part of the verdict.
        if data.get("status") != Status.OUTDATED:
            data["as_of"] = None
        return data


class EvidenceForm(forms.ModelForm):
    default_renderer = CompactRenderer

    # A new token each time the form is shown: posting the same form twice (a double
    # click, a retry) is one submission, and Claim.add_evidence adds it once.
    submission = forms.UUIDField(
        required=False,
        initial=uuid.uuid4,
        widget=forms.HiddenInput,
        error_messages={"invalid": "This form was damaged; reload the page and add it again."},
    )

    class Meta:
        model = Evidence
        fields = ["url", "title", "stance", "quote", "note"]
        labels = {"url": "URL"}
        field_classes = {"url": WebURLField}
        widgets = {
            "url": forms.URLInput({"placeholder": "https://…"}),
            "quote": Textarea({"rows": 2}),
            "note": Textarea({"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "evidence")
        super().__init__(*args, **kwargs)
        for name in ("quote", "note"):
            cast(forms.CharField, self.fields[name]).max_length = LONG_TEXT
            self.fields[name].widget.attrs["maxlength"] = LONG_TEXT


# The reviewer's edits share the panel with the verdict form: their ids say whose they are.


class SpanForm(forms.Form):
    default_renderer = CompactRenderer

    text = forms.CharField(
        label="Exact text the claim should cover (from its paragraph)",
        max_length=LONG_TEXT,
        widget=Textarea({"rows": 3}),
        strip=False,
    )
    version = VersionField(min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_span_%s")
        super().__init__(*args, **kwargs)


class SplitForm(forms.Form):
    """Where to split: any word start is accepted here; the model refuses the others. The
    panel offers the claim's word starts as the list's choices (``reading.split_choices``)."""

    default_renderer = CompactRenderer

    at = forms.IntegerField(min_value=0, label="Split where ‖ stands", widget=forms.Select)
    version = VersionField(min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_split_%s")
        super().__init__(*args, **kwargs)


class MergeForm(forms.Form):
    version = VersionField(min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_merge_%s")
        super().__init__(*args, **kwargs)


class AdjudicationForm(VerdictForm):
    """The reviewer's final status: the verdict form's fields, with Withdraw for Clear.
    The queue shows one per claim, each with its own ids (``auto_id="%s-12"``)."""

    status = ButtonChoiceField(
        choices=[*Status.choices, ("withdraw", "Withdraw")],
        widget=SubmitButtons(
            {"class": "verdict-buttons", "aria-label": "Final status"},
            buttons={
                "supported": {"class": "v-supported"},
                "disputed": {"class": "v-disputed"},
                "outdated": {"class": "v-outdated"},
                # Withdrawing needs no rationale: the browser must not ask for one.
                "withdraw": {"class": "secondary", "formnovalidate": True},
            },
            undo="withdraw",
        ),
    )
    # Not required by the form, as Withdraw sends none; the model refuses an adjudication
    # without one, so the browser asks for it before sending the others.
    rationale = forms.CharField(
        label="Reviewer's rationale",
        required=False,
        max_length=LONG_TEXT,
        widget=Textarea({"rows": 2, "required": True}),
    )
