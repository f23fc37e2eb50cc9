"""API routes for a ticket's attachments: upload (multipart), list, download."""

from flask import g, jsonify, request

from app.api import bp
from app.api.openapi import route
from app.api.serializers import attachment_json
from app.errors import ValidationFailed
from app.http import attachment_response, get_db
from app.tickets import attachments

UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "visibility": {"type": "string", "enum": ["public", "internal"], "default": "public"},
    },
}


@route(
    bp,
    "/tickets/<number>/attachments",
    "POST",
    summary="Attach a file to a ticket (a requester: public files only)",
    body=UPLOAD,
    content_type="multipart/form-data",
    responses={201: "the attachment", 413: "larger than FLOWDESK_ATTACHMENT_MAX_BYTES, or no room left on the ticket"},
)
def upload_attachment(number):
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("send the file as the multipart part named file", {"file": ["A file is required."]})
    attachment = attachments.add_attachment(
        get_db(),
        user=g.user,
        number=number,
        filename=upload.filename,
        data=attachments.read_limited(upload.stream),
        visibility=request.form.get("visibility", "public"),
    )
    return jsonify(attachment_json(attachment)), 201


@route(bp, "/tickets/<number>/attachments", "GET", summary="A ticket's attachments, oldest first")
def list_attachments(number):
    return jsonify([attachment_json(a) for a in attachments.attachments(get_db(), user=g.user, number=number)])


@route(
    bp,
    "/attachments/<int:attachment_id>",
    "GET",
    summary="An attachment's bytes, always as a download",
    responses={200: "the file (Content-Disposition: attachment)", 404: "no such attachment, or not yours to see"},
)
def download_attachment(attachment_id):
    attachment, data = attachments.open_attachment(get_db(), user=g.user, attachment_id=attachment_id)
    return attachment_response(attachment, data)
