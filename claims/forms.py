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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from claims import extraction, importer, revising
from claims.fields import (
    ButtonChoiceField,
    CompactRenderer,
    SubmitButtons,
    Textarea,
    VersionField,
)
from claims.models import (
    LONG_TEXT,
    RECHECK_LIMIT_DAYS,
    WEB_URL_VALIDATORS,
    Article,
    Conflict,
    Evidence,
    Member,
    Project,
    Role,
    Status,
)

if TYPE_CHECKING:
    from claims.tasks import FetchedPage


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


class UploadOrPasteForm(forms.Form):
    """A text to import: an upload or pasted text, not both, read within the import limit.
    ``read_source`` hands its bytes on and puts a refusal by the field it came from."""

    file = forms.FileField(
        required=False,
        help_text="A .txt, .md or .html file.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,.markdown,.html,.htm"}),
    )
    # strip=False: the stored text, and so its sha256, is exactly what was given.
    text = forms.CharField(label="Or paste the text", required=False, strip=False, widget=Textarea)

    missing = "Upload a file or paste the text of the article."
    sometimes_required: tuple[str, ...] = ("file", "text")  # one of them is

    def __init__(self, *args: Any, upload_refused: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set when the upload handler stopped reading an upload past the limit.
        self.upload_refused = upload_refused

    def read_source(self, use: Callable[[bytes, str], None]) -> None:
        """Call ``use(data, filename)`` with the text given, if one was; its
        ``ImportRejected`` becomes an error on the upload or the pasted text."""
        cleaned = self.cleaned_data
        if self.upload_refused:
            self.add_error("file", self.upload_refused)
            return
        upload, text = cleaned.get("file"), cleaned.get("text") or ""
        if upload and text.strip():
            raise forms.ValidationError("Upload a file or paste the text, not both.")
        if not upload and not text.strip():
            if "file" not in self.errors and "text" not in self.errors:
                raise forms.ValidationError(self.missing)
            return
        try:
            use(*((text.encode("utf-8"), "") if upload is None else _read_upload(upload)))
        except importer.ImportRejected as exc:
            if upload is None:
                self.add_error("text", str(exc).replace("The file", "The pasted text", 1))
            else:
                self.add_error("file", str(exc))


class ImportForm(ArticleMetadataForm, UploadOrPasteForm):
    """Step one: an upload or pasted text, or the page a job fetched from a link (``page``),
    decoded and segmented into ``self.prepared``. A page, a PDF or a DOCX is extracted first
    (``claims.extraction``); what it says of itself (title, author, date) fills the metadata
    left blank, and ``self.found`` keeps it for the preview.

    A link itself is only checked here (an address, and the only thing given): fetching it
    may take seconds, so the view hands it to the worker (``claims.tasks.keep_page``), and
    the preview is made from the page it kept."""

    url = WebURLField(
        label="From a link",
        required=False,
        max_length=2000,
        assume_scheme="https",
        help_text="A web page, a PDF or a Word document on the web. It is fetched in the "
        "background; its preview opens when it is done.",
    )
    file = forms.FileField(
        required=False,
        help_text="A .txt, .md, .html, .pdf or .docx file.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".txt,.md,.markdown,.html,.htm,.pdf,.docx"}
        ),
    )
    field_order = ["url", "file", "text", "published_on", "title", "author", "publication"]
    sometimes_required = ("url", "file", "text", "published_on")
    prepared: importer.Prepared | None = None
    found: dict[str, Any] | None = None
    fetched: str = ""  # signed source address and fetch time, carried to step two

    def __init__(self, *args: Any, page: FetchedPage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = page
        # A link or a document may give its own date; a text without one is refused below.
        self.fields["published_on"].required = False
        self.fields["published_on"].help_text = (
            "Needed for a pasted text or a text file; a link, a PDF or a Word document "
            "may give its own."
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.page is not None:
            self._from_page(self.page)
            return self.cleaned_data
        if self.cleaned_data.get("url") or "url" in self.errors:
            self._from_link()
            return self.cleaned_data

        upload = self.cleaned_data.get("file")
        document = upload is not None and extraction.is_document(upload.name)
        if not document and self._published_on() is None and "published_on" not in self.errors:
            self.add_error("published_on", self.fields["published_on"].error_messages["required"])

        def prepare(data: bytes, filename: str) -> None:
            extracted = extraction.extract_file(data, filename)
            if extracted is not None:
                self._fill(extracted.title, extracted.author, extracted.date)
                self.prepared = extraction.prepare_text(
                    extracted.text, filename=filename, published_on=self._published_on()
                )
            elif self._published_on() is not None:
                self.prepared = importer.prepare(
                    data, filename=filename, published_on=self._published_on()
                )

        self.read_source(prepare)
        self._dated()
        return self.cleaned_data

    def _dated(self) -> None:
        """The date the text gave, when none was given: shown, and carried to step two."""
        if self.prepared is not None and self._published_on() is None:
            self._fill("", "", self.prepared.published_on)

    def _from_link(self) -> None:
        """A link is the only thing given; it is fetched by the worker, not here."""
        if self.cleaned_data.get("file") or (self.cleaned_data.get("text") or "").strip():
            raise forms.ValidationError("Give a link, a file or a pasted text: only one.")

    def _from_page(self, page: FetchedPage) -> None:
        """The page a job fetched: what it says of itself fills what the person left blank,
        and the record of the fetch (signed, with the job, whose copy of the page goes once
        imported) is carried to step two."""
        found = page.found
        self._fill(found["title"], found["author"], found["published_on"], found["source_url"])
        fetched = {"url": found["source_url"], "at": found["fetched_at"].isoformat()}
        self.fetched = signing.dumps(fetched | {"job": page.job}, salt=FETCHED_SALT)
        try:
            self.prepared = extraction.prepare_text(
                page.text, filename=found["filename"], published_on=self._published_on()
            )
        except importer.ImportRejected as exc:
            # The link is not on this form any more (the page is the job's): by the date, or
            # above the fields.
            self.add_error(
                "published_on" if "when it was published" in str(exc) else None, str(exc)
            )
            return
        self._dated()

    def _published_on(self) -> dt.date | None:
        return self.cleaned_data.get("published_on")

    def _fill(self, title: str, author: str, date: dt.date | None, source_url: str = "") -> None:
        """Put what the document says of itself in the metadata left blank, both in the
        cleaned data (for step two) and in the form as shown (a prefill the person sees)."""
        if self.found is None:
            self.found = {"title": title, "author": author, "date": date, "source_url": source_url}
        values = {"title": title, "author": author, "published_on": date, "source_url": source_url}
        shown = cast(Any, self.data).copy()  # a QueryDict: the request's own is immutable
        for name, value in values.items():
            if value and not self.cleaned_data.get(name) and name not in self.errors:
                if isinstance(value, str):  # a page's title may be longer than ours
                    value = value[: self.fields[name].max_length]  # type: ignore[attr-defined]
                self.cleaned_data[name] = value
                shown[name] = value.isoformat() if isinstance(value, dt.date) else value
        self.data = shown

    def confirm_form(self) -> ConfirmImportForm:
        """The hidden form that carries the prepared text to step two."""
        assert self.prepared is not None
        return ConfirmImportForm(
            auto_id=False,  # its hidden inputs sit on the page beside the form they copy
            initial={
                **self.cleaned_data,
                "text": self.prepared.text,
                "filename": self.prepared.filename,
                "fetched": self.fetched,
            },
        )


# What signs a URL import's address and fetch time between the preview and the import.
FETCHED_SALT = "claims.import.fetched"


class ConfirmImportForm(ArticleMetadataForm):
    """Step two: the decoded text from the preview, with the metadata, in hidden fields."""

    text = forms.CharField(strip=False, widget=forms.HiddenInput)
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    # A URL import's address and fetch time, signed by step one (see ImportForm.fetched).
    fetched = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    # The job that fetched the page, named by the signed record: its copy goes once imported.
    fetch_job: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget = forms.HiddenInput()

    def clean_fetched(self) -> dt.datetime | None:
        value = self.cleaned_data["fetched"]
        if not value:
            return None
        try:
            signed = signing.loads(value, salt=FETCHED_SALT, max_age=dt.timedelta(days=1))
            at = dt.datetime.fromisoformat(signed["at"])
            job = signed.get("job")
            self.fetch_job = job if isinstance(job, int) else None
            return at
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            # Not by the field: it is hidden, and step one shows the form's own errors.
            self.add_error(
                None,
                "The record of the fetch is not the one the preview made; import from the "
                "link again.",
            )
            return None

    def import_into(self, project: Project, actor: Any) -> tuple[Article, bool]:
        """Import the text; the browser sends CRLF, which the importer normalises back.
        The text is the preview's (extracted already from a page, PDF or DOCX), so it is
        read as plain text under the name of what it came from."""
        prepared = extraction.prepare_text(
            self.cleaned_data["text"],
            filename=self.cleaned_data["filename"],
            published_on=self.cleaned_data["published_on"],
        )
        fetched_at = self.cleaned_data.get("fetched")
        return importer.import_prepared(
            project,
            prepared,
            actor=actor,
            **self.metadata(),
            **({"fetched_at": fetched_at} if fetched_at else {}),
        )


class RevisionForm(UploadOrPasteForm):
    """Step one of a revision: the new text (upload or paste), aligned into ``revision``."""

    text = forms.CharField(
        label="Or paste the revised text", required=False, strip=False, widget=Textarea
    )
    missing = "Upload a file or paste the revised text."
    revision: revising.Revision | None = None

    def __init__(self, article: Article, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.article = article

    def clean(self) -> dict[str, Any]:
        super().clean()

        def align(data: bytes, filename: str) -> None:
            self.revision = revising.prepare_revision(self.article, data, filename=filename)

        self.read_source(align)
        return self.cleaned_data

    def confirm_form(self) -> ConfirmRevisionForm:
        assert self.revision is not None
        return ConfirmRevisionForm(
            self.article,
            auto_id=False,
            initial={
                "text": self.revision.prepared.text,
                "filename": self.revision.prepared.filename,
                "seen": revising.seen_digest(self.revision),
            },
        )


class ConfirmRevisionForm(forms.Form):
    """Step two: the text from the preview and what it was aligned against, hidden; the
    revision is aligned again and applied only if the article is as the preview saw it."""

    text = forms.CharField(strip=False, widget=forms.HiddenInput)
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    seen = forms.CharField(max_length=64, widget=forms.HiddenInput)
    unrelated = forms.BooleanField(
        required=False,
        label="It is a revision of this article even so",
        help_text="The new text has no claim in common with the current one.",
    )

    def __init__(self, article: Article, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.article = article

    def apply(self, actor: Any) -> Article:
        """Align again and apply; ``ImportRejected`` says why not (nothing written)."""
        data = self.cleaned_data
        revision = revising.prepare_revision(
            self.article, data["text"].encode("utf-8"), filename=data["filename"], html=False
        )
        if revising.seen_digest(revision) != data["seen"]:
            raise revising.StaleRevision()
        return revising.apply_revision(revision, actor=actor, unrelated_ok=data["unrelated"])


def _read_upload(upload: Any) -> tuple[bytes, str]:
    """An upload's bytes, refused from its declared size before reading."""
    limit = importer.max_bytes()
    if upload.size > limit:
        raise importer.ImportRejected(
            f"The file is {filesizeformat(upload.size)}, larger than the import "
            f"limit of {filesizeformat(limit)}."
        )
    return importer.read_limited(upload, limit), upload.name


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


class InviteForm(forms.Form):
    """Invite someone who has no account yet: the account is created without a password
    and added to the project (one ``member.added`` event); the person sets a password
    through a one-time link that the view shows to the inviting admin, once."""

    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"required": "Give the new account a username."},
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.ANALYST,
        error_messages={"invalid_choice": "'%(value)s' is not a role; choose one from the list."},
    )

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "invite")  # beside the add form, on the same page
        super().__init__(*args, **kwargs)
        self.acting = member

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"].strip()
        # Case-insensitively, as Django's own sign-up form checks: "Erin" beside "erin"
        # would be two accounts that people cannot tell apart.
        if get_user_model().objects.filter(username__iexact=name).exists():
            raise ValidationError(
                f"There is already an account named '{name}'; add them under "
                "'Add a member' instead."
            )
        return name

    def apply(self) -> Any:
        """Create the account and the membership, or neither; None (with the reason as an
        error) when the name was taken meanwhile."""
        name, role = self.cleaned_data["username"], self.cleaned_data["role"]
        user = get_user_model()(username=name)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
                self.acting.project.set_member(user, role, actor=self.acting)
        except IntegrityError:
            self.add_error("username", f"There is already an account named '{name}'.")
            return None
        return user


SLUG_TAKEN = "A project with this short name exists already; choose another."


class ProjectForm(forms.ModelForm):
    """A new project: its name, its address, blind review or not, and the minimum of
    verdicts for a consensus. ``create`` makes it through ``Project.create``, with the
    person creating it as its first admin (one ``project.created`` event)."""

    min_verdicts = forms.IntegerField(
        label="Minimum verdicts",
        min_value=1,
        max_value=100,
        initial=2,
        help_text="Verdicts a claim needs before it has a consensus.",
    )

    class Meta:
        model = Project
        fields = ["name", "slug", "blind", "min_verdicts"]
        labels = {"slug": "Short name (in its address)", "blind": "Blind review"}
        help_texts = {"slug": "Letters, digits, - and _ only; it cannot be changed later."}
        error_messages = {"slug": {"unique": SLUG_TAKEN}}

    def create(self, actor: Any) -> Project | None:
        """The project, or None with the reason as an error (a race for the same name)."""
        data = self.cleaned_data
        try:
            return Project.create(
                data["slug"],
                data["name"],
                actor=actor,
                admin=actor,
                blind=data["blind"],
                min_verdicts=data["min_verdicts"],
            )
        except (IntegrityError, ValidationError):
            self.add_error("slug", SLUG_TAKEN)
            return None


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
    # The analyst's own day to look at the verdict again by, in place of the project's
    # freshness (claims/recheck.py): from tomorrow to ten years ahead, which the browser
    # is told too (__init__).
    recheck_by = forms.DateField(
        required=False,
        label="Re-check by (optional)",
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the re-check date as YYYY-MM-DD."},
    )
    version = VersionField(min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "recheck_by" in self.fields:  # the adjudication form has none
            first, last = recheck_bounds()
            attrs = self.fields["recheck_by"].widget.attrs
            attrs.update(min=first.isoformat(), max=last.isoformat())

    def clean_recheck_by(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("recheck_by")
        first, last = recheck_bounds()
        if day is not None and not first <= day <= last:
            raise ValidationError(
                f"Choose a re-check date from tomorrow ({first.isoformat()}) to ten years "
                f"ahead ({last.isoformat()})."
            )
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # The "since" date belongs to an outdated verdict only; with another status it is
        # simply not part of the verdict.
        if data.get("status") != Status.OUTDATED:
            data["as_of"] = None
        return data


def recheck_bounds() -> tuple[dt.date, dt.date]:
    """The days a re-check date may fall on: tomorrow to ten years ahead (a date of today
    would be spent at once: the analyst is looking now)."""
    today = timezone.localdate()
    return today + dt.timedelta(days=1), today + dt.timedelta(days=RECHECK_LIMIT_DAYS)


class ConfirmForm(forms.Form):
    """A verdict "still holds": its version, which the verdict form sends with it."""

    version = VersionField(min_value=1)


FRESHNESS_HELP = "Days; leave empty for never."


class FreshnessForm(forms.Form):
    """How long verdicts stay fresh in a project, per status; ``apply`` sets it through
    ``Project.set_freshness`` (one ``project.freshness_changed`` event, none when nothing
    changes)."""

    supported = forms.IntegerField(
        label="Supported", required=False, min_value=1, max_value=RECHECK_LIMIT_DAYS
    )
    disputed = forms.IntegerField(
        label="Disputed", required=False, min_value=1, max_value=RECHECK_LIMIT_DAYS
    )
    outdated = forms.IntegerField(
        label="Outdated", required=False, min_value=1, max_value=RECHECK_LIMIT_DAYS
    )

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", member.project.freshness())
        super().__init__(*args, **kwargs)
        self.acting = member
        for field in self.fields.values():
            field.help_text = FRESHNESS_HELP

    def apply(self) -> bool:
        """Set the days; whether anything changed (False also when refused, with the
        reason as an error)."""
        project = self.acting.project
        wanted = {status: self.cleaned_data[status] for status in self.fields}
        if wanted == project.freshness():
            return False
        try:
            project.set_freshness(self.acting, wanted)
        except ValidationError as error:
            self.add_error(None, error)
            return False
        return True


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
    # A re-check date is an analyst's, for their own verdict (None removes the field).
    recheck_by = None  # type: ignore[assignment]
