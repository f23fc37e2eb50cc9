"""Attachments in the browser: files sent with the ticket page's forms (its own upload form, a comment, the
portal's report, a task page's upload form) and their downloads, which are never shown inline."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from app.errors import ServiceError, TooLarge, ValidationFailed
from app.http import attachment_response, get_db
from app.tickets import attachments
from app.tickets.models import Attachment
from app.web import bp, local_back

# Failures of an upload that the page shows beside its file field (a refusal is the error page instead).
UPLOAD_ERRORS = (TooLarge, ValidationFailed)


@bp.app_template_global()
def upload_limits() -> tuple[int, str]:
    """How many files one form takes, and the megabytes one may hold (for the forms' help text)."""
    return attachments.MOST_FILES_AT_ONCE, f"{attachments.max_bytes() / 1024 / 1024:g}"


def chosen_files(field: str) -> list[FileStorage]:
    """The files of the form's field that were chosen (a file input left empty sends a part with no name)."""
    return [f for f in request.files.getlist(field) if f.filename]


def attach_files(
    files: list[FileStorage], *, number: str, visibility: str, comment_id: int | None = None
) -> list[Attachment]:
    if len(files) > attachments.MOST_FILES_AT_ONCE:
        message = _("Attach at most %(count)s files at once.", count=attachments.MOST_FILES_AT_ONCE)
        raise ValidationFailed(message, {"file": [message]})
    return [
        attachments.add_attachment(
            get_db(),
            user=current_user,
            number=number,
            filename=upload.filename,
            data=attachments.read_limited(upload.stream),
            visibility=visibility,
            comment_id=comment_id,
        )
        for upload in files
    ]


def upload_error(err: ServiceError, field: str) -> dict:
    """The page's error dict for a failed upload, under the file field's name."""
    return {field: err.fields.get("file") or [err.message], f"{field}_summary": [err.message]}


@bp.route("/tickets/<number>/attachments", methods=["POST"])
@login_required
def attach(number):
    from app.web.tickets import _page as page

    files = chosen_files("attach_file")
    visibility = request.form.get("visibility", "public")
    attachments.may_attach(get_db(), user=current_user, number=number, visibility=visibility)
    try:
        if not files:
            raise ValidationFailed(_("Choose a file to attach."), {"file": [_("Choose a file to attach.")]})
        attach_files(files, number=number, visibility=visibility)
    except UPLOAD_ERRORS as err:
        return page(number, errors=upload_error(err, "attach_file"), status=err.status)
    flash(ngettext("%(num)d file is attached.", "%(num)d files are attached.", len(files)))
    back = local_back(request.form.get("back"), "/tasks/", "/tickets/")
    return redirect(back or url_for("web.ticket", number=number) + "#attachments")


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download_attachment(attachment_id):
    attachment, data = attachments.open_attachment(get_db(), user=current_user, attachment_id=attachment_id)
    return attachment_response(attachment, data)
