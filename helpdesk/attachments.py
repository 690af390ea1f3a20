"""Checking uploads before they are stored: size, type by content, safe names."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Sniffed MIME type -> extensions it may carry.
ALLOWED_BINARY = {
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/gif": {".gif"},
    "image/webp": {".webp"},
    "application/pdf": {".pdf"},
    "application/zip": {".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
    "application/vnd.oasis.opendocument.text": {".odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {".ods"},
}
# Formats with no magic number: accepted when the bytes are UTF-8 text.
ALLOWED_TEXT = {".txt": "text/plain", ".csv": "text/csv", ".log": "text/plain", ".md": "text/plain"}
MAX_FILES = 10


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile
    filename: str
    content_type: str
    size: int


def max_bytes() -> int:
    return getattr(settings, "HELPDESK_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)


def safe_filename(name: str) -> str:
    """The last path segment, without control characters or leading dots, at most 150 chars."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").replace("/", "_")
    stem, ext = os.path.splitext(name)
    stem = stem[: 150 - len(ext)] or "file"
    return f"{stem}{ext.lower()}"


def check_upload(upload: UploadedFile) -> CheckedUpload:
    filename = safe_filename(upload.name)
    ext = os.path.splitext(filename)[1]
    if upload.size > max_bytes():
        raise ValidationError(
            _("%(name)s is larger than %(limit)s.")
            % {"name": filename, "limit": filesizeformat(max_bytes())},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": filename}, code="empty")
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        allowed = ALLOWED_BINARY.get(kind.mime)
        if allowed is None or ext not in allowed:
            raise ValidationError(
                _("%(name)s is not a file type we accept.") % {"name": filename},
                code="type",
            )
        return CheckedUpload(upload, filename, kind.mime, upload.size)
    if ext in ALLOWED_TEXT:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # The cut at 8 KiB may split a character; only reject real binary.
            if b"\x00" in head or len(head) < 8192:
                raise ValidationError(
                    _("%(name)s is not a text file.") % {"name": filename}, code="type"
                ) from None
        return CheckedUpload(upload, filename, ALLOWED_TEXT[ext], upload.size)
    raise ValidationError(
        _("%(name)s is not a file type we accept.") % {"name": filename}, code="type"
    )


def check_uploads(uploads: list[UploadedFile]) -> list[CheckedUpload]:
    if len(uploads) > MAX_FILES:
        raise ValidationError(
            _("Attach at most %(count)d files.") % {"count": MAX_FILES}, code="too_many"
        )
    return [check_upload(upload) for upload in uploads]
