"""Every error's message in both languages (`MESSAGES`, by stable code), and the JSON error
answer: `{"error": <stable code>, "message": <human text>, "details": {...}}`, with the
message in the caller's language. The API answers with it, and so do the web faces for a
path under /api/ (fieldapp/web.py); the desk and the review flash the same messages."""
from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from fieldapp.core.errors import DomainError

MESSAGES = {
    "validation_error": _l("Some fields are missing or not valid."),
    "bad_request": _l("The request could not be understood."),
    "unauthorized": _l("Sign in first: the token is missing, expired or revoked."),
    "device_revoked": _l("This phone was signed out by the office. Sign in again to go on."),
    "device_not_found": _l("No such device."),
    "invalid_credentials": _l("Wrong user name or password."),
    "too_many_attempts": _l("Too many failed sign-ins. Wait a while and try again."),
    "forbidden": _l("Your role may not do this."),
    "job_not_found": _l("No such job, or it is not yours."),
    "not_found": _l("Not found."),
    "method_not_allowed": _l("This method is not allowed here."),
    "too_large": _l("The upload is too large."),
    "unsupported_media_type": _l("Only JPEG, PNG and WebP images are accepted."),
    "json_required": _l("Send the body as JSON (Content-Type: application/json)."),
    "hash_mismatch": _l("The bytes received do not match their SHA-256 address."),
    "bad_sha256": _l("Not a SHA-256 address."),
    "illegal_transition": _l("This status change is not possible from the job's current status."),
    "forbidden_transition": _l("Your role may not make this status change."),
    "unknown_status": _l("Unknown status."),
    "reason_required": _l("A reason is required."),
    "comment_required": _l("A comment is required."),
    "open_complaints": _l("A complaint about this job is still open. To approve anyway, tick the override and say why in the comment."),
    "job_under_way": _l("The technician is already on the way or at work on this job. To cancel anyway, tell them, then confirm the override."),
    "checklist_incomplete": _l("The job cannot be completed yet: required checklist items or the customer's signature are missing."),
    "job_closed": _l("The job is closed and cannot be changed."),
    "photo_not_found": _l("No such photo on this job."),
    "status_not_patchable": _l("Only cancellation can be set directly; other status changes have their own actions."),
    "cancel_alone": _l("Cancel a job on its own, without other changes."),
    "unknown_technician": _l("No active technician with this id."),
    "schedule_required": _l("Set a scheduled start before assigning a technician."),
    "bad_schedule": _l("The scheduled end must be after the start."),
    "bad_phone": _l("The phone number is not valid."),
    "bad_type": _l("Unknown job type."),
    "bad_outcome": _l("Unknown contact outcome."),
    "bad_decision": _l("The decision must be approve or rework."),
    "unknown_item": _l("The job's checklist has no such item."),
    "seq_gap": _l("Mutations are missing before this one; send from the expected seq."),
    "bad_batch": _l("The batch of mutations is not valid."),
    "batch_too_large": _l("Too many mutations in one push."),
    "bad_seq": _l("A mutation's seq must be a whole number from 1."),
    "bad_mutation": _l("A mutation must be an object."),
    "device_mismatch": _l("This token belongs to another device."),
    "blob_missing": _l("The image this change names has not been uploaded yet."),
    "blob_not_yours": _l("This image was not uploaded from your account: take it again."),
    # What a checklist answer or a note can be refused for (the mutation types' errors).
    "check_needs_boolean": _l("A yes/no item takes yes or no."),
    "number_needed": _l("This item takes a number."),
    "text_needed": _l("This item takes text."),
    "text_too_long": _l("The answer is too long."),
    "not_an_option": _l("The answer is not one of this item's options."),
    "photo_item_takes_photos": _l("A photo item is answered with photos, not a value."),
    "unknown_kind": _l("This checklist item is of a kind this server does not know."),
    "empty_note": _l("A note cannot be empty."),
    "note_too_long": _l("The note is too long."),
    "not_a_photo_item": _l("This checklist item does not take photos."),
    "server_error": _l("Something went wrong on the server. Nothing was stored."),
    # What the sync engine refuses a mutation of any type with (sync/registry.ENGINE_ERRORS).
    "invalid_args": _l("A value in this change is missing or not valid."),
    "unknown_type": _l("The server does not know this kind of change: update the app."),
    "bad_id": _l("This change has no valid id."),
    "bad_job_id": _l("This change does not name a valid job."),
    "bad_at": _l("The time this change was made is not valid."),
    "seq_reused": _l("This phone gave two changes the same number; the first one stands."),
    "mutation_id_taken": _l("This change's id is already held by another account."),
    # The dispatcher's desk: complaints, late evidence, settings, lists.
    "complaint_not_found": _l("No such complaint."),
    "notification_not_found": _l("No such notification."),
    "illegal_complaint_transition": _l("This status change is not possible from the complaint's current status."),
    "customer_not_satisfied": _l("A complaint is closed only when the customer is satisfied: record it first."),
    "complaint_closed": _l("The complaint is closed and cannot be changed."),
    "bad_about": _l("A complaint is about a technician, a product or the service."),
    "bad_severity": _l("A complaint is general or major."),
    "severity_downgrade": _l("A major complaint cannot be made general again."),
    "unknown_supervisor": _l("No active supervisor with this id."),
    "result_required": _l("Say how the complaint was resolved."),
    "content_required": _l("Write what the complaint is about."),
    "customer_required": _l("Name the complainant and their phone number, or the job the complaint is about."),
    "nothing_to_change": _l("Nothing to change: name a status, a note or a severity."),
    "satisfaction_needs_contact": _l("Only a call that reached the customer can record whether they are satisfied."),
    "address_required": _l("An address is needed for a visit."),
    "conflict_not_found": _l("No such late evidence on this job."),
    "conflict_already_resolved": _l("This late evidence was already decided."),
    "resolution_required": _l("Write down the decision."),
    "bad_setting": _l("A setting is not valid."),
    "bad_cursor": _l("The page link is not valid; start from the first page."),
    # Parts requests and take-back repairs (issue 8).
    "parts_request_not_found": _l("No such parts request, or it is not yours."),
    "takeback_not_found": _l("No such take-back receipt, or it is not yours."),
    "bad_parts_kind": _l("A part is a replacement or a supplementary part."),
    "part_name_required": _l("Name the part."),
    "bad_cause": _l("Unknown cause."),
    "cause_required": _l("Record the cause before approving: nothing is ordered without it."),
    "bad_parts_decision": _l("The decision must be approve or refuse."),
    "already_decided": _l("This parts request was already decided."),
    "parts_not_approved": _l("Not released: this parts request has no approval on record."),
    "already_released": _l("This part was already released from the warehouse."),
    "too_many_photos": _l("Too many photos for one record."),
    "bad_items": _l("List the items taken away, each with a name."),
    "condition_required": _l("Describe the condition of what is taken away."),
    "bad_receipt_no": _l("The receipt number may hold only letters, digits and dashes."),
    "unknown_receipt": _l("No such take-back receipt."),
    "receipt_not_on_job": _l("This receipt belongs to another job."),
    "already_returned": _l("This product was already brought back: the receipt is closed."),
    "receipt_note_required": _l("The receipt was not collected: write down why."),
    "signature_not_png": _l("A signature must be a PNG image."),
    "request_id_taken": _l("This request id belongs to another job."),
    "receipt_id_taken": _l("This receipt id belongs to another job."),
    # Return visits (回访) and the customer survey.
    "return_visit_not_found": _l("No such return visit."),
    "return_visit_answered": _l("This return visit has already been answered; the first answer stands and nothing was changed."),
    "bad_score": _l("The score is a whole number from 1 to 5."),
    "survey_not_found": _l("This survey link is not valid."),
    "survey_expired": _l("This survey link has expired."),
    "no_customer_contact": _l("The customer has neither a phone number nor an e-mail address to send the link to."),
    # Accounts (issue 14): the password rule of the contract's "Administration".
    "password_too_short": _l("A password needs at least 12 characters."),
    "password_too_long": _l("A password may have at most 256 characters."),
    "password_too_common": _l("This password is too common or too simple to guess; choose another."),
    "password_like_username": _l("The password must not be the user name or little more than it."),
    "bad_username": _l("A user name has 1 to 64 characters."),
    "bad_role": _l("Unknown role."),
    "username_taken": _l("This user name is already taken."),
    "user_not_found": _l("No such user."),
}


def error_response(code: str, status: int, details: dict | None = None,
                   message: str | None = None, headers: dict | None = None):
    text = message or str(MESSAGES.get(code, MESSAGES["bad_request"]))
    response = jsonify({"error": code, "message": text, "details": details or {}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def domain_error_response(error: DomainError):
    return error_response(error.code, error.status, error.details, error.message)


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "too_many_attempts"}


def http_error_response(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    # The error's own headers travel with it: a 405's Allow (RFC 9110), a 401's
    # WWW-Authenticate, a 429's Retry-After.
    headers = {key: value for key, value in error.get_headers()
               if key.lower() != "content-type"}
    if "messages" in data:  # webargs/marshmallow validation, by location
        messages = data["messages"]
        details = {"fields": messages.get("json", messages.get("query", messages))}
        return error_response("validation_error", 422 if status == 422 else status, details,
                              headers=headers)
    code = data.get("code") or HTTP_CODES.get(
        status, "server_error" if status >= 500 else "bad_request")
    return error_response(code, status, data.get("details"), headers=headers)
