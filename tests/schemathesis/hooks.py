"""schemathesis hooks for .ci/schemathesis.

Two things the OpenAPI document cannot say, handled here and nowhere else:

* Which documents are valid. A template or line document is Word `.docx`, HTML or plain text
  (the document says so with the form's `encoding` and the raw bodies' media types), but a
  `.docx` must be a real Word file and HTML or text a valid template. The strategies below make
  such files, so generated uploads reach the server's own logic instead of its 422s.

* What exists or happened before. A cursor is opaque (only the service issues valid ones), and a code or id that
  refers to another resource must name one that exists: a JSON Schema can say neither. The
  `positive_data_acceptance` check is dropped for exactly those refusals, recognised by the
  problem document's `errors` (every error names such a field with a not-found code); a 422 for
  anything else in the same request still fails. The service's own tests cover bad cursors and
  unknown references (tests/api/).
"""

import io
import itertools
import json
import os
import re
import zipfile

import schemathesis
from hypothesis import strategies as st
from schemathesis.openapi.checks import EnsureResourceAvailability, RejectedPositiveData

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Text without template syntax (`{`, `%`, `#` open minijinja tags) and without NUL.
_PLAIN = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="{}%#\x00"),
    min_size=1,
    max_size=200,
)


def _docx(body: str) -> bytes:
    """The smallest Word document the service accepts: content types and a body."""
    escaped = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{escaped}</w:t></w:r></w:p></w:body></w:document>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


_XML_SAFE = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]), max_size=100)
schemathesis.openapi.media_type(DOCX, _XML_SAFE.map(_docx))
schemathesis.openapi.media_type("text/plain", _PLAIN.map(lambda text: text.encode("utf-8")))
schemathesis.openapi.media_type(
    "text/html",
    _PLAIN.map(lambda text: f"<p>{text}</p><p>{{{{ contact_name }}}}</p>".encode("utf-8")),
)

# Fields that name another resource, and the codes the service answers when it does not exist.
REFERENCE_FIELDS = {
    "company_no",
    "contact_id",
    "contact_ids",
    "contact_nos",
    "salesperson_code",
    "interaction_template_code",
    "interaction_group_code",
    "segment_id",
    "logged_segment_id",
    "code",  # apply-saved-criteria names saved criteria by code
    "mailing_group_codes",
    "industry_group_codes",
    "business_relation_codes",
    "job_responsibility_codes",
}
NOT_FOUND_CODES = {
    "unknown_code",
    "unknown_contact",
    "unknown_reference",
    "unknown_segment",
    "unknown",
    "not_found",
}
# Refusals that are about what happened before, not about the request: an `Idempotency-Key`
# already used with another body (the document can say what a key looks like, not that it is
# new; generated keys repeat, as `0`). `before_call` below makes drawn keys unique; a repeat
# that still reaches the server is dropped here.
STATE_PROBLEMS = {
    "idempotency-key-reused",
    # Logging needs a segment with a description and lines: the segment's state, not the body.
    "segment-not-loggable",
}


def _is_stored_state(case, error) -> bool:
    """Refusals that depend on what is stored, which the document of a change cannot know: a
    contact change or bulk item is checked against the contact it changes (its type decides
    whether `name` may be cleared and industry groups set)."""
    field, code = _field(str(error.get("field", ""))), error.get("code")
    if case.operation.path not in ("/v1/contacts/{id}", "/v1/contacts/bulk"):
        return False
    return (field, code) in {("name", "required"), ("type", "required")} or code == "not_allowed"


def _is_taken(error) -> bool:
    """A unique value (a contact's `no` or `external_id`) that another stored resource already
    holds: alone it is a 409, which the check accepts; beside another field's fault it is one of
    the 422's errors. The document can say what a number looks like, not that it is free."""
    return error.get("code") == "already_exists"


def _is_raw_upload_language(case, error) -> bool:
    """An upload's `language_code` is a query parameter that a form may give as a part instead:
    required for a raw body, optional for a form. OpenAPI parameters cannot depend on the body's
    media type, so the query parameter is documented as optional."""
    return (
        case.operation.path == "/v1/interaction-templates/{code}/attachments"
        and error.get("field") == "language_code"
        and error.get("code") == "required"
    )


def _problem(response) -> dict:
    try:
        problem = json.loads(response.content)
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def _problem_code(response):
    return _problem(response).get("code")


def _errors(response):
    errors = _problem(response).get("errors")
    return errors if isinstance(errors, list) and errors else None


def _field(name: str) -> str:
    """`items[3].salesperson_code` -> `salesperson_code`; `contact_ids[0]` -> `contact_ids`."""
    return name.rsplit(".", 1)[-1].split("[", 1)[0]


def _is_opaque_cursor(error) -> bool:
    return error.get("field") == "cursor"


def _is_missing_reference(error) -> bool:
    return _field(str(error.get("field", ""))) in REFERENCE_FIELDS and error.get("code") in NOT_FOUND_CODES


def _has_negative_component(case) -> bool:
    """schemathesis 4.32.5's coverage phase can pair a negative header (`If-Match: 0`, drawn as
    the integer 0) with a positive body and label the whole case positive; such a request is not
    schema-valid, so refusing it is right."""
    meta = case.meta
    components = getattr(meta, "components", None) or {}
    return any(info.mode.is_negative for info in components.values())


def _is_filter_size(error) -> bool:
    """A filter tree nests at most 8 levels and holds at most 200 nodes; a recursive JSON Schema
    cannot bound its depth or its size (the longer stateful chains draw deep trees)."""
    return str(error.get("field", "")).startswith("/filter") and error.get("code") in ("too_deep", "too_many_nodes")


def _is_bounds_order(error) -> bool:
    """`between` takes its lower bound first; a JSON Schema cannot compare two items."""
    return str(error.get("field", "")).startswith("/filter") and "lower bound first" in str(error.get("message", ""))


def _is_unknown_line_in_body(case, response) -> bool:
    """`DELETE /v1/segments/{id}/lines` answers 404 when a line id in its body is not a line of
    the segment (all or nothing, tests/api/segments.rs). The stateful phase reads that 404 as
    the segment it just created being gone; the problem's detail says it is the lines."""
    detail = str(_problem(response).get("detail", ""))
    return (
        case.operation.method.upper() == "DELETE"
        and case.operation.path == "/v1/segments/{id}/lines"
        and "of the given lines are not lines of segment" in detail
    )


# Segments whose last criteria action a request undid (`after_call`): undo deletes the action,
# which the stateful phase cannot know, as it is a POST.
_UNDONE_SEGMENTS = set()
_UNDO = "/v1/segments/{id}/criteria-actions/undo"


@schemathesis.hook
def after_call(context, case, response):
    if case.operation.path == _UNDO and case.operation.method.upper() == "POST" and response.status_code == 200:
        _UNDONE_SEGMENTS.add(str((case.path_parameters or {}).get("id")))


def _is_undone_action(case, response) -> bool:
    """`GET .../criteria-actions/{action_id}` answers 404 once an undo deleted the action (found
    when unique `Idempotency-Key`s let the stateful phase chain create, read, undo, read)."""
    return (
        case.operation.path == "/v1/segments/{id}/criteria-actions/{action_id}"
        and response.status_code == 404
        and str((case.path_parameters or {}).get("id")) in _UNDONE_SEGMENTS
    )


def _dropped_because(failure, case, response):
    """Why a failure is not the API's, or None when it is."""
    if isinstance(failure, EnsureResourceAvailability):
        if _is_unknown_line_in_body(case, response):
            return "unknown line in body"
        return "undone action" if _is_undone_action(case, response) else None
    if not isinstance(failure, RejectedPositiveData):
        return None
    if _has_negative_component(case):
        return "negative component"
    if response.status_code != 422:
        return None
    if _problem_code(response) in STATE_PROBLEMS:
        return _problem_code(response)
    errors = _errors(response)
    if errors is None:
        return None
    reasons = set()
    for error in errors:
        if _is_opaque_cursor(error):
            reasons.add("opaque cursor")
        elif _is_missing_reference(error):
            reasons.add("missing reference")
        elif _is_stored_state(case, error):
            reasons.add("stored contact")
        elif _is_taken(error):
            reasons.add("taken")
        elif _is_raw_upload_language(case, error):
            reasons.add("raw upload language")
        elif _is_bounds_order(error):
            reasons.add("bounds order")
        elif _is_filter_size(error):
            reasons.add("filter size")
        else:
            return None
    return "+".join(sorted(reasons))


# SCHEMATHESIS_DROPPED_LOG=<file>: one line per dropped failure and its reason, to see what the
# exclusions hide.
_DROPPED_LOG = os.environ.get("SCHEMATHESIS_DROPPED_LOG")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    reason = _dropped_because(failure, case, response)
    if reason is not None and _DROPPED_LOG:
        with open(_DROPPED_LOG, "a", encoding="utf-8") as log:
            log.write(f"{case.operation.label}\t{reason}\n")
    return reason is None


# A valid `Idempotency-Key` (1 to 255 visible ASCII characters), and a counter that makes each
# drawn one new.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_KEY_SUFFIX = itertools.count()


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Drawn keys repeat a few values (`0`, `A`; the coverage phase sends one key with every
    variant of a body), and a key used again with another body is refused (422
    `idempotency-key-reused`) before the body is read, so most cases with a key never reached the
    operation. A valid key gets a unique suffix and stays valid; an invalid one, or a missing one,
    is left as drawn. Negative cases are left alone: a changed case is validated again, and one
    that lost its `Authorization` on purpose would come back positive and be sent with it (ST203)."""
    headers = case.headers
    if not headers or (case.meta is not None and case.meta.generation.mode.is_negative):
        return
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _KEY.fullmatch(value):
            headers[name] = f"{value[:240]}.{next(_KEY_SUFFIX)}"
