"""End to end through the client openapi-python-client generates from openapi/openapi.json.

Against a live server: CRM_BASE_URL (e.g. http://127.0.0.1:8080) and CRM_ADMIN_KEY (an admin
API key). Builds a segment from code tables, bulk-synced contacts and a template with an HTML
document, overrides a line, logs the segment and reads back what was logged. Every call is
one of the generated client's typed functions; any mismatch exits non-zero.

Codes carry a random tag, so the script can run again (or next to the TypeScript one) against
the same database.
"""

from __future__ import annotations

import io
import os
import secrets
import sys
from typing import Any, TypeVar

from crm_segments_client import AuthenticatedClient
from crm_segments_client.api.api_keys import get_me
from crm_segments_client.api.code_tables import (
    create_interaction_group,
    create_mailing_group,
    create_salesperson,
)
from crm_segments_client.api.contacts import bulk_sync_contacts
from crm_segments_client.api.interaction_log import interaction_log_entry_document
from crm_segments_client.api.interaction_templates import (
    create_interaction_template,
    upload_template_attachment,
)
from crm_segments_client.api.logged_segments import (
    get_logged_segment,
    list_logged_segment_entries,
)
from crm_segments_client.api.segments import (
    create_criteria_action,
    create_segment,
    get_segment,
    get_segment_line,
    list_segment_lines,
    log_segment,
    patch_segment_line,
)
from crm_segments_client.models import (
    AddCriteriaAction,
    AddCriteriaActionAction,
    AttachmentForm,
    AttachmentResponse,
    BulkContacts,
    BulkResponse,
    BulkStatus,
    ContactPatch,
    ContactType,
    CorrespondenceType,
    CreateDescribedCode,
    CreateSalesperson,
    CreateSegment,
    CreateTemplate,
    CriteriaActionKind,
    CriteriaActionResponse,
    DeliveryStatus,
    DescribedCodeResponse,
    DocumentKind,
    EntryList,
    InformationFlow,
    InitiatedBy,
    LinePatch,
    ListOp,
    LoggedSegmentResponse,
    LogResult,
    LogSegment,
    MembershipCondition,
    MembershipField,
    MeResponse,
    Problem,
    SalespersonResponse,
    SegmentLineList,
    SegmentLineResponse,
    SegmentResponse,
    SegmentStatus,
    TemplateResponse,
)
from crm_segments_client.types import File, Response

T = TypeVar("T")

checks = 0


def check(ok: bool, what: str, got: Any = None) -> None:
    """Counts a passed check, or stops the run naming what differed."""
    global checks
    if not ok:
        sys.exit(f"e2e.py: FAILED: {what}" + ("" if got is None else f"\n  got: {got!r}"))
    checks += 1


def equal(got: Any, expected: Any, what: str) -> None:
    check(got == expected, f"{what}: expected {expected!r}", got)


def answer(response: Response[Any], status: int, kind: type[T], what: str) -> T:
    """The parsed body of a response that must have `status` and parse as `kind`."""
    equal(int(response.status_code), status, f"{what}: status ({response.content[:500]!r})")
    check(isinstance(response.parsed, kind), f"{what}: body is a {kind.__name__}", response.parsed)
    return response.parsed  # type: ignore[return-value]


def main() -> None:
    base_url = os.environ["CRM_BASE_URL"]
    key = os.environ["CRM_ADMIN_KEY"]
    tag = "PY" + secrets.token_hex(3).upper()
    client = AuthenticatedClient(base_url=base_url, token=key, timeout=30.0)

    me = answer(get_me.sync_detailed(client=client), 200, MeResponse, "GET /v1/me")

    # Code tables: a mailing group to filter by, an interaction group and a salesperson.
    group = answer(
        create_mailing_group.sync_detailed(
            client=client, body=CreateDescribedCode(code=f"{tag}-NEWS", description="Newsletter")
        ),
        201,
        DescribedCodeResponse,
        "create mailing group",
    )
    equal((group.code, group.description), (f"{tag}-NEWS", "Newsletter"), "mailing group")
    interaction_group = answer(
        create_interaction_group.sync_detailed(
            client=client, body=CreateDescribedCode(code=f"{tag}-MAIL", description="Mailings")
        ),
        201,
        DescribedCodeResponse,
        "create interaction group",
    )
    salesperson = answer(
        create_salesperson.sync_detailed(
            client=client,
            body=CreateSalesperson(code=f"{tag}-SP", name="Sam Seller", email="sam@example.com"),
        ),
        201,
        SalespersonResponse,
        "create salesperson",
    )
    equal(salesperson.name, "Sam Seller", "salesperson name")

    # Contacts in one bulk sync: a company with two persons in the group, one person outside it.
    company_no = f"{tag}C1"
    company_name = f"Fjord & Co {tag}"
    items = [
        ContactPatch(
            no=company_no,
            type_=ContactType.COMPANY,
            name=company_name,
            email="post@fjord.example",
            external_id=f"{tag}-c1",
            mailing_group_codes=[group.code],
        ),
        ContactPatch(
            type_=ContactType.PERSON,
            name="Ann Øster",
            company_no=company_no,
            email="ann@fjord.example",
            external_id=f"{tag}-p1",
            mailing_group_codes=[group.code],
            salesperson_code=salesperson.code,
        ),
        ContactPatch(
            type_=ContactType.PERSON,
            name="Bob Berg",
            company_no=company_no,
            external_id=f"{tag}-p2",
            mailing_group_codes=[group.code],
        ),
        ContactPatch(type_=ContactType.PERSON, name="Cy Dahl", email="cy@example.com", external_id=f"{tag}-p3"),
    ]
    bulk = answer(
        bulk_sync_contacts.sync_detailed(client=client, body=BulkContacts(items=items)),
        200,
        BulkResponse,
        "bulk sync",
    )
    equal([(r.index, r.status) for r in bulk.results], [(i, BulkStatus.CREATED) for i in range(4)], "bulk results")
    equal(bulk.results[0].no, company_no, "the company keeps its no")
    nos = [r.no for r in bulk.results]
    again = answer(
        bulk_sync_contacts.sync_detailed(client=client, body=BulkContacts(items=items)),
        200,
        BulkResponse,
        "bulk sync again",
    )
    equal([r.status for r in again.results], [BulkStatus.UNCHANGED] * 4, "a repeated sync changes nothing")

    # A template that leaves every defaulted field out: the generated model must not send them.
    template_body = CreateTemplate(
        code=f"{tag}-T", description="Spring newsletter", interaction_group_code=interaction_group.code
    )
    sent = create_interaction_template._get_kwargs(body=template_body)["json"]
    equal(sorted(sent), ["code", "description", "interaction_group_code"], "template fields sent")
    template = answer(
        create_interaction_template.sync_detailed(client=client, body=template_body),
        201,
        TemplateResponse,
        "create template",
    )
    equal(
        (
            template.information_flow,
            template.initiated_by,
            template.unit_cost,
            template.unit_duration_min,
            template.correspondence_type,
            template.ignore_contact_correspondence_type,
        ),
        (InformationFlow.OUTBOUND, InitiatedBy.US, "0.00", 0, CorrespondenceType.EMAIL, False),
        "template defaults",
    )

    html = (
        "<p>Dear {{ contact_name }} of {{ contact_company_name }},</p>\n"
        "<p>{{ line_subject }}, from {{ salesperson_name }} ({{ segment_no }}).</p>"
    )
    # The generator cannot express the operation's raw text/html body (it warns and keeps the
    # multipart/form-data one), so the document goes up as a form.
    attachment = answer(
        upload_template_attachment.sync_detailed(
            template.code,
            client=client,
            body=AttachmentForm(
                file=File(payload=io.BytesIO(html.encode()), file_name="welcome.html", mime_type="text/html"),
                language_code="en",
            ),
        ),
        201,
        AttachmentResponse,
        "upload template document",
    )
    equal(
        (attachment.kind, attachment.language_code, attachment.default, attachment.version, attachment.file_name),
        (DocumentKind.HTML, "en", True, 1, "welcome.html"),
        "template document",
    )
    equal(
        sorted(attachment.merge_fields),
        ["contact_company_name", "contact_name", "line_subject", "salesperson_name", "segment_no"],
        "merge fields",
    )
    equal(attachment.unknown_merge_fields, [], "unknown merge fields")

    # A segment built by a filter: everyone in the mailing group.
    segment = answer(
        create_segment.sync_detailed(
            client=client,
            body=CreateSegment(
                description=f"Spring {tag}",
                interaction_template_code=template.code,
                subject="Spring news",
                salesperson_code=salesperson.code,
            ),
        ),
        201,
        SegmentResponse,
        "create segment",
    )
    equal((segment.status, segment.no_of_lines), (SegmentStatus.OPEN, 0), "new segment")
    equal(segment.correspondence_type, CorrespondenceType.EMAIL, "the segment takes the template's channel")
    action = answer(
        create_criteria_action.sync_detailed(
            segment.id,
            client=client,
            body=AddCriteriaAction(
                action=AddCriteriaActionAction.ADD,
                filter_=MembershipCondition(field=MembershipField.MAILING_GROUP, op=ListOp.IN, value=[group.code]),
            ),
        ),
        201,
        CriteriaActionResponse,
        "criteria action add",
    )
    equal(
        (action.action, action.seq, action.lines_added, action.lines_removed), (CriteriaActionKind.ADD, 1, 3, 0), "add"
    )

    lines = answer(list_segment_lines.sync_detailed(segment.id, client=client), 200, SegmentLineList, "list lines")
    equal([line.contact_no for line in lines.items], nos[:3], "lines in Business Central's order")
    equal(lines.next_cursor, None, "one page of lines")
    for line in lines.items:
        equal(
            (line.subject, line.interaction_template_code, line.salesperson_code, line.cost, line.overridden),
            ("Spring news", template.code, salesperson.code, "0.00", []),
            f"line of {line.contact_no} inherits the header",
        )
        equal(line.language_code, "en", f"line of {line.contact_no} language")
    bob = lines.items[2]
    equal([w.code for w in bob.warnings], ["no_email"], "an email line to a contact without address warns")

    # Override one line under If-Match, then a PATCH with the now stale tag is refused.
    ann_response = get_segment_line.sync_detailed(segment.id, lines.items[1].id, client=client)
    ann = answer(ann_response, 200, SegmentLineResponse, "get line")
    etag = ann_response.headers.get("etag")
    check(bool(etag), "a line read carries an ETag", dict(ann_response.headers))
    patched_response = patch_segment_line.sync_detailed(
        segment.id, ann.id, client=client, body=LinePatch(subject="A word for you"), if_match=etag
    )
    patched = answer(patched_response, 200, SegmentLineResponse, "patch line")
    equal((patched.subject, patched.overridden), ("A word for you", ["subject"]), "overridden line")
    check(patched_response.headers.get("etag") not in (None, etag), "the ETag moves", patched_response.headers)
    stale = answer(
        patch_segment_line.sync_detailed(
            segment.id, ann.id, client=client, body=LinePatch(subject="Lost update"), if_match=etag
        ),
        412,
        Problem,
        "patch line with a stale If-Match",
    )
    equal((stale.status, stale.code), (412, "precondition-failed"), "stale If-Match problem")
    again_ann = answer(
        get_segment_line.sync_detailed(segment.id, ann.id, client=client), 200, SegmentLineResponse, "get line"
    )
    equal(again_ann.subject, "A word for you", "a refused PATCH changes nothing")

    # Log it and read back what was logged.
    logged = answer(
        log_segment.sync_detailed(segment.id, client=client, body=LogSegment()), 201, LogResult, "log segment"
    )
    summary = logged.logged_segment
    equal(
        (
            summary.segment_id,
            summary.segment_no,
            summary.description,
            summary.no_of_interactions,
            summary.user,
            summary.canceled,
        ),
        (segment.id, segment.no, f"Spring {tag}", 3, me.name, False),
        "logged segment",
    )
    check(not logged.follow_up_segment, "no follow-up unless asked", logged.follow_up_segment)
    read_back = answer(
        get_logged_segment.sync_detailed(summary.id, client=client), 200, LoggedSegmentResponse, "get logged segment"
    )
    equal(read_back.to_dict(), summary.to_dict(), "the logged segment read back")
    now = answer(get_segment.sync_detailed(segment.id, client=client), 200, SegmentResponse, "get segment")
    equal((now.status, now.logged_segment_id), (SegmentStatus.LOGGED, summary.id), "the segment is logged")

    entries = answer(
        list_logged_segment_entries.sync_detailed(summary.id, client=client), 200, EntryList, "logged entries"
    )
    equal([e.contact_no for e in entries.items], nos[:3], "one entry per line, in line order")
    equal(
        [e.subject for e in entries.items],
        ["Spring news", "A word for you", "Spring news"],
        "entries carry the effective subjects",
    )
    for entry in entries.items:
        equal(
            (
                entry.segment_no,
                entry.logged_segment_id,
                entry.interaction_template_code,
                entry.interaction_group_code,
                entry.delivery_status,
                entry.has_document,
                entry.cost,
                entry.canceled,
            ),
            (
                segment.no,
                summary.id,
                template.code,
                interaction_group.code,
                DeliveryStatus.NOT_APPLICABLE,
                True,
                "0.00",
                False,
            ),
            f"entry of {entry.contact_no}",
        )
    equal(len({e.entry_no for e in entries.items}), 3, "entry numbers are unique")

    document_response = interaction_log_entry_document.sync_detailed(entries.items[1].id, client=client)
    document = answer(document_response, 200, str, "merged document")
    check(
        document_response.headers.get("content-type", "").startswith("text/html"),
        "the merged document is HTML",
        document_response.headers.get("content-type"),
    )
    expected = f"<p>Dear Ann Øster of Fjord &amp; Co {tag},</p>\n<p>A word for you, from Sam Seller ({segment.no}).</p>"
    equal(document, expected, "merged document")

    print(f"e2e.py: passed ({checks} checks) against {base_url}")


if __name__ == "__main__":
    main()
