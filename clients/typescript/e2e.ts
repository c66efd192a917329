// End to end through openapi-fetch with the types openapi-typescript generates from
// openapi/openapi.json (schema.d.ts, made by `npm run generate`).
//
// Against a live server: CRM_BASE_URL (e.g. http://127.0.0.1:8080) and CRM_ADMIN_KEY (an admin
// API key). Builds a segment from code tables, bulk-synced contacts and a template with an HTML
// document, overrides a line, logs the segment and reads back what was logged. Every call is a
// typed openapi-fetch call; any mismatch exits non-zero. Codes carry a random tag, so the script
// can run again (or next to the Python one) against the same database.

import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

import createClient from "openapi-fetch";

import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

let checks = 0;

function check(ok: boolean, what: string, got?: unknown): asserts ok {
  if (!ok) {
    console.error(`e2e.ts: FAILED: ${what}${got === undefined ? "" : `\n  got: ${JSON.stringify(got)}`}`);
    process.exit(1);
  }
  checks += 1;
}

function equal<T>(got: T, expected: T, what: string): void {
  check(isDeepStrictEqual(got, expected), `${what}: expected ${JSON.stringify(expected)}`, got);
}

/** The body of an answer that must have `status` (success or problem alike). */
function answer<D, E>(
  result: { data?: D; error?: E; response: Response },
  status: number,
  what: string,
): NonNullable<D | E> {
  const body = result.data ?? result.error;
  equal(result.response.status, status, `${what}: status (${JSON.stringify(body)})`);
  check(body !== undefined && body !== null, `${what}: has a body`);
  return body as NonNullable<D | E>;
}

/** The body of a successful answer with `status`. */
function ok<D, E>(result: { data?: D; error?: E; response: Response }, status: number, what: string): NonNullable<D> {
  const body = answer(result, status, what);
  check(result.data !== undefined, `${what}: a success body`, result.error);
  return body as NonNullable<D>;
}

async function main(): Promise<void> {
  const baseUrl = process.env.CRM_BASE_URL;
  const key = process.env.CRM_ADMIN_KEY;
  check(baseUrl !== undefined && key !== undefined, "CRM_BASE_URL and CRM_ADMIN_KEY are set");
  const tag = "TS" + randomBytes(3).toString("hex").toUpperCase();
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

  const me = ok(await client.GET("/v1/me"), 200, "GET /v1/me");

  // Code tables: a mailing group to filter by, an interaction group and a salesperson.
  const group = ok(
    await client.POST("/v1/mailing-groups", { body: { code: `${tag}-NEWS`, description: "Newsletter" } }),
    201,
    "create mailing group",
  );
  equal([group.code, group.description], [`${tag}-NEWS`, "Newsletter"], "mailing group");
  const interactionGroup = ok(
    await client.POST("/v1/interaction-groups", { body: { code: `${tag}-MAIL`, description: "Mailings" } }),
    201,
    "create interaction group",
  );
  const salesperson = ok(
    await client.POST("/v1/salespeople", {
      body: { code: `${tag}-SP`, name: "Sam Seller", email: "sam@example.com" },
    }),
    201,
    "create salesperson",
  );
  equal(salesperson.name, "Sam Seller", "salesperson name");

  // Contacts in one bulk sync: a company with two persons in the group, one person outside it.
  const companyNo = `${tag}C1`;
  const items: Schemas["ContactPatch"][] = [
    {
      no: companyNo,
      type: "company",
      name: `Fjord & Co ${tag}`,
      email: "post@fjord.example",
      external_id: `${tag}-c1`,
      mailing_group_codes: [group.code],
    },
    {
      type: "person",
      name: "Ann Øster",
      company_no: companyNo,
      email: "ann@fjord.example",
      external_id: `${tag}-p1`,
      mailing_group_codes: [group.code],
      salesperson_code: salesperson.code,
    },
    { type: "person", name: "Bob Berg", company_no: companyNo, external_id: `${tag}-p2`, mailing_group_codes: [group.code] },
    { type: "person", name: "Cy Dahl", email: "cy@example.com", external_id: `${tag}-p3` },
  ];
  const bulk = ok(await client.POST("/v1/contacts/bulk", { body: { items } }), 200, "bulk sync");
  equal(
    bulk.results.map((r) => [r.index, r.status]),
    [0, 1, 2, 3].map((i) => [i, "created"]),
    "bulk results",
  );
  equal(bulk.results[0]?.no, companyNo, "the company keeps its no");
  const nos = bulk.results.map((r) => r.no);
  const again = ok(await client.POST("/v1/contacts/bulk", { body: { items } }), 200, "bulk sync again");
  equal(
    again.results.map((r) => r.status),
    ["unchanged", "unchanged", "unchanged", "unchanged"],
    "a repeated sync changes nothing",
  );

  // A template that leaves every defaulted field out: this only compiles (tsc --strict) while
  // the generated CreateTemplate type makes them optional.
  const templateBody: Schemas["CreateTemplate"] = {
    code: `${tag}-T`,
    description: "Spring newsletter",
    interaction_group_code: interactionGroup.code,
  };
  const template = ok(await client.POST("/v1/interaction-templates", { body: templateBody }), 201, "create template");
  equal(
    [
      template.information_flow,
      template.initiated_by,
      template.unit_cost,
      template.unit_duration_min,
      template.correspondence_type,
      template.ignore_contact_correspondence_type,
    ],
    ["outbound", "us", "0.00", 0, "email", false],
    "template defaults",
  );

  // The document as a raw text/html body (the operation's typed `text/html` content): the
  // string goes out as it is, with its media type.
  const html =
    "<p>Dear {{ contact_name }} of {{ contact_company_name }},</p>\n" +
    "<p>{{ line_subject }}, from {{ salesperson_name }} ({{ segment_no }}).</p>";
  const attachment = ok(
    await client.POST("/v1/interaction-templates/{code}/attachments", {
      params: { path: { code: template.code }, query: { language_code: "en", file_name: "welcome.html" } },
      body: html,
      headers: { "Content-Type": "text/html" },
      bodySerializer: (body) => body,
    }),
    201,
    "upload template document",
  );
  equal(
    [attachment.kind, attachment.language_code, attachment.default, attachment.version, attachment.file_name],
    ["html", "en", true, 1, "welcome.html"],
    "template document",
  );
  equal(
    [...attachment.merge_fields].sort(),
    ["contact_company_name", "contact_name", "line_subject", "salesperson_name", "segment_no"],
    "merge fields",
  );
  equal(attachment.unknown_merge_fields, [], "unknown merge fields");

  // A segment built by a filter: everyone in the mailing group.
  const segment = ok(
    await client.POST("/v1/segments", {
      body: {
        description: `Spring ${tag}`,
        interaction_template_code: template.code,
        subject: "Spring news",
        salesperson_code: salesperson.code,
      },
    }),
    201,
    "create segment",
  );
  equal([segment.status, segment.no_of_lines], ["open", 0], "new segment");
  equal(segment.correspondence_type, "email", "the segment takes the template's channel");
  const segmentPath = { path: { id: segment.id } };
  const action = ok(
    await client.POST("/v1/segments/{id}/criteria-actions", {
      params: segmentPath,
      body: { action: "add", filter: { field: "mailing_group", op: "in", value: [group.code] } },
    }),
    201,
    "criteria action add",
  );
  equal([action.action, action.seq, action.lines_added, action.lines_removed], ["add", 1, 3, 0], "add");

  const lines = ok(await client.GET("/v1/segments/{id}/lines", { params: segmentPath }), 200, "list lines");
  equal(
    lines.items.map((line) => line.contact_no),
    nos.slice(0, 3),
    "lines in Business Central's order",
  );
  equal(lines.next_cursor, null, "one page of lines");
  for (const line of lines.items) {
    equal(
      [line.subject, line.interaction_template_code, line.salesperson_code, line.cost, line.overridden, line.language_code],
      ["Spring news", template.code, salesperson.code, "0.00", [], "en"],
      `line of ${line.contact_no} inherits the header`,
    );
  }
  const [, annLine, bobLine] = lines.items;
  check(annLine !== undefined && bobLine !== undefined, "three lines");
  equal(
    bobLine.warnings.map((w) => w.code),
    ["no_email"],
    "an email line to a contact without address warns",
  );

  // Override one line under If-Match, then a PATCH with the now stale tag is refused.
  const linePath = { path: { id: segment.id, line_id: annLine.id } };
  const read = await client.GET("/v1/segments/{id}/lines/{line_id}", { params: linePath });
  ok(read, 200, "get line");
  const etag = read.response.headers.get("ETag");
  check(etag !== null && etag !== "", "a line read carries an ETag");
  const patchedResult = await client.PATCH("/v1/segments/{id}/lines/{line_id}", {
    params: { ...linePath, header: { "If-Match": etag } },
    body: { subject: "A word for you" },
  });
  const patched = ok(patchedResult, 200, "patch line");
  equal([patched.subject, patched.overridden], ["A word for you", ["subject"]], "overridden line");
  const newTag = patchedResult.response.headers.get("ETag");
  check(newTag !== null && newTag !== etag, "the ETag moves", newTag);
  const stale = await client.PATCH("/v1/segments/{id}/lines/{line_id}", {
    params: { ...linePath, header: { "If-Match": etag } },
    body: { subject: "Lost update" },
  });
  const problem = answer(stale, 412, "patch line with a stale If-Match");
  check(stale.error !== undefined, "a stale If-Match is an error", stale.data);
  equal([stale.error.status, stale.error.code], [412, "precondition-failed"], "stale If-Match problem");
  check(problem === stale.error, "the problem is the body");
  const unchanged = ok(await client.GET("/v1/segments/{id}/lines/{line_id}", { params: linePath }), 200, "get line");
  equal(unchanged.subject, "A word for you", "a refused PATCH changes nothing");

  // Log it and read back what was logged.
  const logged = ok(await client.POST("/v1/segments/{id}/log", { params: segmentPath, body: {} }), 201, "log segment");
  const summary = logged.logged_segment;
  equal(
    [summary.segment_id, summary.segment_no, summary.description, summary.no_of_interactions, summary.user, summary.canceled],
    [segment.id, segment.no, `Spring ${tag}`, 3, me.name, false],
    "logged segment",
  );
  check(!logged.follow_up_segment, "no follow-up unless asked", logged.follow_up_segment);
  const loggedPath = { path: { id: summary.id } };
  const readBack = ok(await client.GET("/v1/logged-segments/{id}", { params: loggedPath }), 200, "get logged segment");
  equal(readBack, summary, "the logged segment read back");
  const now = ok(await client.GET("/v1/segments/{id}", { params: segmentPath }), 200, "get segment");
  equal([now.status, now.logged_segment_id], ["logged", summary.id], "the segment is logged");

  const entries = ok(
    await client.GET("/v1/logged-segments/{id}/entries", { params: loggedPath }),
    200,
    "logged entries",
  );
  equal(
    entries.items.map((e) => e.contact_no),
    nos.slice(0, 3),
    "one entry per line, in line order",
  );
  equal(
    entries.items.map((e) => e.subject),
    ["Spring news", "A word for you", "Spring news"],
    "entries carry the effective subjects",
  );
  for (const entry of entries.items) {
    equal(
      [
        entry.segment_no,
        entry.logged_segment_id,
        entry.interaction_template_code,
        entry.interaction_group_code,
        entry.delivery_status,
        entry.has_document,
        entry.cost,
        entry.canceled,
      ],
      [segment.no, summary.id, template.code, interactionGroup.code, "not_applicable", true, "0.00", false],
      `entry of ${entry.contact_no}`,
    );
  }
  equal(new Set(entries.items.map((e) => e.entry_no)).size, 3, "entry numbers are unique");

  const annEntry = entries.items[1];
  check(annEntry !== undefined, "Ann's entry");
  const documentResult = await client.GET("/v1/interaction-log-entries/{id}/document", {
    params: { path: { id: annEntry.id } },
    parseAs: "text",
  });
  const document = ok(documentResult, 200, "merged document");
  const contentType = documentResult.response.headers.get("Content-Type") ?? "";
  check(contentType.startsWith("text/html"), "the merged document is HTML", contentType);
  equal(
    document,
    `<p>Dear Ann Øster of Fjord &amp; Co ${tag},</p>\n<p>A word for you, from Sam Seller (${segment.no}).</p>`,
    "merged document",
  );

  console.log(`e2e.ts: passed (${checks} checks) against ${baseUrl}`);
}

main().catch((error: unknown) => {
  console.error("e2e.ts: FAILED:", error);
  process.exit(1);
});
