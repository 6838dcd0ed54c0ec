/**
 * Generates bench/gaps/corpus.jsonl, the main labelled corpus (run once; the output is committed):
 *   npx tsx bench/gaps/make-corpus.ts
 *
 * Six servers. Each gap lists several independent wordings of its need (terse and verbose,
 * different vocabulary), of what was tried and of suggestions; each report draws one of each,
 * fills ids/dates/numbers, sometimes drops the suggestion or the tool name, sometimes gets a
 * typo or is written in lower case. Near-miss gaps (same tool, same words, another need) and the
 * same need on two servers are deliberate. Singletons are written one by one.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GapType, Resolution } from "../../src/feedback/index.js";
import { fill, Rng, typo } from "./rng.js";

export interface CorpusReport {
  id: number;
  gap: string;
  server_name: string;
  tool_name: string | null;
  gap_type: GapType;
  resolution: Resolution | null;
  what_i_needed: string;
  what_i_tried: string;
  suggestion: string | null;
  user_goal: string | null;
}

interface GapSpec {
  key: string;
  n: number;
  tools: (string | null)[];
  types: GapType[];
  needs: string[];
  tried: string[];
  sugg: string[];
}

interface ServerSpec {
  server: string;
  goals: string[];
  gaps: GapSpec[];
  /** One-off needs: [tool, gap_type, need, tried]. */
  singles: [string | null, GapType, string, string][];
}

const SERVERS: ServerSpec[] = [
  {
    server: "billing",
    goals: [
      "The user wants a monthly spend report for their finance team.",
      "Reconcile what the customer was charged against the contract.",
      "Prepare numbers for the quarterly board deck.",
      "User asked why their bill went up.",
    ],
    gaps: [
      {
        key: "billing/costs-date-range",
        n: 14,
        tools: ["get_costs", "get_costs", "get_costs", null, "billing.get_costs"],
        types: ["missing_parameter", "missing_parameter", "incomplete_results"],
        needs: [
          "need date filter on get_costs",
          "Filter costs by a date range",
          "get_costs only returns all-time totals; I needed the costs between two dates ({date} to {date2}).",
          "costs for a specific time window, e.g. since {date}",
          "I had to get the spend for last month only, but there is no way to restrict get_costs to a period.",
          "start_date / end_date arguments for get_costs",
          "The user asked how much they spent between {date} and {date2}. I could not limit the cost query to those dates, so I could only give the lifetime figure.",
        ],
        tried: [
          "Called get_costs with no arguments: got lifetime totals.",
          "get_costs(from=\"{date}\") -> error: unknown argument 'from'",
          "Tried get_costs and then summing line items by hand, but line items have no dates either.",
          "called get_costs {num} times with different params, always same total",
        ],
        sugg: [
          "Add start_date and end_date (ISO 8601) parameters to get_costs.",
          "get_costs(since, until)",
          "Support a date range filter: get_costs(from: date, to: date).",
          'accept period="YYYY-MM" or a from/to pair',
        ],
      },
      {
        key: "billing/costs-by-project-filter",
        n: 9,
        tools: ["get_costs", "get_costs", null],
        types: ["missing_parameter"],
        needs: [
          "filter costs by project",
          "I needed the costs of one project ({id}) only, get_costs mixes all projects together.",
          "need to restrict get_costs to a single project id",
          "Costs for project {name} only - the tool has no project argument.",
          "get costs scoped to one project",
        ],
        tried: [
          'get_costs(project="{id}") -> unknown parameter',
          "Called get_costs and looked for a project field in the output, there is none.",
          "listed all costs ({num} rows) hoping to filter client-side but rows don't carry the project",
        ],
        sugg: [
          "Add a project_id parameter to get_costs.",
          "get_costs(project_id: string)",
          "Let get_costs take a project filter.",
        ],
      },
      {
        key: "billing/costs-breakdown-per-service",
        n: 8,
        tools: ["get_costs", null],
        types: ["incomplete_results", "missing_tool", "wrong_format"],
        needs: [
          "Break down the total cost per service (compute, storage, egress).",
          "need cost grouped by service",
          "get_costs returns a single number. The user wanted to know which service drives the bill, so I needed a breakdown by service category.",
          "per-service cost breakdown",
          "Costs split by product line / SKU",
        ],
        tried: [
          'get_costs -> {"total": {num}.42}',
          "Checked get_invoice for line items; they are just one aggregated line.",
          "no other tool returns anything by service",
        ],
        sugg: [
          "Add group_by=service to get_costs, returning one row per service.",
          "Return a breakdown array [{service, amount}] alongside the total.",
          "new tool get_cost_breakdown(group_by)",
        ],
      },
      {
        key: "billing/invoices-date-range",
        n: 10,
        tools: ["list_invoices", "list_invoices", null],
        types: ["missing_parameter", "incomplete_results"],
        needs: [
          "list invoices issued between two dates",
          "need date range filter on list_invoices",
          "Invoices from {date} until {date2} only; list_invoices returns everything since the account was opened.",
          "I need all invoices from last quarter",
          "filter invoices by issue date",
        ],
        tried: [
          "list_invoices() returned {num} invoices going back years",
          'list_invoices(after="{date}") ignored the argument',
          "Fetched every invoice and filtered on the date field myself.",
        ],
        sugg: [
          "Add issued_after / issued_before to list_invoices.",
          "list_invoices(from, to)",
          "support a date window on list_invoices",
        ],
      },
      {
        key: "billing/invoice-pdf",
        n: 8,
        tools: ["get_invoice", null, "get_invoice"],
        types: ["missing_tool", "wrong_format"],
        needs: [
          "Download the invoice as a PDF",
          "need the pdf file of invoice {id}",
          "The customer wants a copy of invoice {id} they can forward to accounts payable. get_invoice only gives JSON; I need the rendered PDF or a link to it.",
          "get a PDF / printable version of an invoice",
          "invoice document link",
        ],
        tried: [
          'get_invoice("{id}") -> JSON with amounts, no pdf_url',
          "looked for an export or download tool, none exists",
        ],
        sugg: [
          "Return a pdf_url in get_invoice.",
          "Add download_invoice_pdf(invoice_id) returning base64 or a signed URL.",
          "",
        ],
      },
      {
        key: "billing/refund",
        n: 7,
        tools: [null],
        types: ["missing_tool"],
        needs: [
          "issue a refund",
          "Refund a charge ({id}) for a customer who was double billed.",
          "No way to refund or credit back a payment.",
          "need to give a partial refund of ${num} to the customer",
          "The user asked me to reverse yesterday's duplicate charge; I can see the charge but there is no tool that refunds it.",
        ],
        tried: [
          "Looked through the tool list: only read tools for charges.",
          'get_charge("{id}") works but nothing to reverse it',
          "Tried update_charge with status=refunded, rejected: read-only field",
        ],
        sugg: ["create_refund(charge_id, amount?, reason?)", "Add a refund tool with an optional partial amount."],
      },
      {
        key: "billing/amount-currency-format",
        n: 7,
        tools: ["get_invoice", "list_invoices", "get_costs", null],
        types: ["wrong_format"],
        needs: [
          "amounts come back as integers in cents without the currency",
          "Amounts have no currency code, so I cannot tell EUR invoices from USD ones.",
          "need currency on monetary amounts",
          "The amount field is 129900 for what the dashboard shows as 1,299.00 EUR; the unit (minor units) and the currency are not in the response.",
        ],
        tried: [
          "Compared get_invoice output with the dashboard for {id}.",
          "Divided by 100 guessing cents, but JPY invoices then came out wrong.",
        ],
        sugg: [
          'Return amounts as {value: "1299.00", currency: "EUR"}.',
          "Include an ISO 4217 currency field next to every amount.",
          "",
        ],
      },
      {
        key: "billing/invoices-pagination",
        n: 8,
        tools: ["list_invoices", "list_invoices", null],
        types: ["incomplete_results"],
        needs: [
          "list_invoices stops at 100 results, need pagination",
          "Only the first {num} invoices are returned and there is no cursor to get the rest.",
          "need to page through all invoices",
          "The customer has more than a hundred invoices; I can only ever see the latest 100 and there is no next-page token.",
        ],
        tried: ["list_invoices(limit=1000) still returns 100", "list_invoices(page=2) -> unknown argument"],
        sugg: ["Add cursor-based pagination (next_cursor) to list_invoices.", "support page/page_size", ""],
      },
      {
        key: "billing/customer-by-email",
        n: 6,
        tools: ["get_customer", null, "search_customers"],
        types: ["missing_parameter", "missing_tool"],
        needs: [
          "find a customer by email address",
          "look up customer by email ({email})",
          "I only had the user's email, {email}; get_customer needs the internal customer id which the user doesn't know.",
          "search customers by email",
        ],
        tried: [
          'get_customer(email="{email}") -> customer_id is required',
          "list_customers and scanned {num} pages manually",
        ],
        sugg: ["Let get_customer accept an email.", "search_customers(query) matching email or name"],
      },
    ],
    singles: [
      [null, "missing_tool", "Change the billing contact email on the account", "no update_account tool"],
      ["get_costs", "wrong_format", "cost numbers are floats with rounding noise (12.299999999)", "get_costs"],
      [null, "missing_tool", "Apply a coupon code to a subscription", "looked for coupons/discounts tools"],
      [
        "list_invoices",
        "missing_parameter",
        "filter invoices by status (paid / unpaid / overdue)",
        'list_invoices(status="overdue") rejected',
      ],
      [null, "missing_tool", "get the tax ID / VAT number on file for the customer", "get_customer has no tax fields"],
      [
        "get_subscription",
        "incomplete_results",
        "Subscription response lacks the next renewal date",
        'get_subscription("{id}")',
      ],
      [null, "missing_tool", "forecast next month's bill based on current usage", "nothing projects costs"],
      ["get_usage", "wrong_format", "usage is returned in bytes, want GB with the unit", "get_usage"],
      [null, "other", "The tool descriptions don't say whether amounts include VAT", "read the tool list"],
      [null, "missing_tool", "export all invoices as CSV for accounting", "list_invoices and build the CSV by hand"],
      [
        "list_payment_methods",
        "incomplete_results",
        "card expiry date missing from payment methods",
        "list_payment_methods",
      ],
      [null, "missing_tool", "cancel a subscription at period end", "no cancel tool"],
    ],
  },
  {
    server: "codehost",
    goals: [
      "Help the user review a teammate's pull request.",
      "The user is triaging open bugs before a release.",
      "Investigate why the build broke on main.",
      "Onboarding: explain how this repository is organised.",
    ],
    gaps: [
      {
        key: "codehost/pr-review-comments",
        n: 11,
        tools: ["get_pull_request", "get_pull_request", null],
        types: ["incomplete_results", "missing_tool"],
        needs: [
          "get review comments on a PR",
          "get_pull_request returns the description and the diff but not the review comments, so I couldn't see what reviewers asked for.",
          "need the inline code review comments of pull request #{num}",
          "PR review threads are missing",
          "fetch comments left by reviewers on a pull request, including the file and line they refer to",
        ],
        tried: [
          'get_pull_request(repo="acme/api", number={num}) -> no comments field',
          "list_issue_comments on the PR number only returns the conversation comments, not the review ones",
          "tried get_pr_reviews, doesn't exist",
        ],
        sugg: [
          "Add list_review_comments(repo, number) with path, line, author, body.",
          "include review comments in get_pull_request",
          "",
        ],
      },
      {
        key: "codehost/code-search-regex",
        n: 8,
        tools: ["search_code", "search_code", null],
        types: ["missing_parameter", "incomplete_results"],
        needs: [
          "regex support in search_code",
          "I needed to search the codebase with a regular expression (e.g. `TODO\\(\\w+\\)`), search_code only does plain words.",
          "search code by pattern, not just literal terms",
          "search_code treats my query as keywords; need regexp matching",
        ],
        tried: ['search_code(query="/foo.*bar/") -> 0 results', "escaped the pattern, still tokenised"],
        sugg: ["Add regex: boolean to search_code.", "support regular expression queries", ""],
      },
      {
        key: "codehost/file-at-ref",
        n: 9,
        tools: ["get_file_contents", "get_file_contents", null],
        types: ["missing_parameter"],
        needs: [
          "read a file at a specific branch or commit",
          "get_file_contents always reads the default branch; I needed the version on the feature branch.",
          "need ref param on get_file_contents (sha {run})",
          "get file contents at a given commit to compare before/after",
          "Fetch {path} as it was in tag v2.3.0",
        ],
        tried: [
          'get_file_contents(path="{path}", branch="feature/x") ignored branch',
          "got main's copy, which already has the fix",
        ],
        sugg: ["Add ref (branch, tag or SHA) to get_file_contents.", "get_file_contents(path, ref?)"],
      },
      {
        key: "codehost/issues-by-label",
        n: 9,
        tools: ["list_issues", "list_issues", null],
        types: ["missing_parameter"],
        needs: [
          "filter issues by label",
          "list only issues labelled 'bug'",
          "I needed the open issues with the label release-blocker; list_issues has no label argument so I got all {num} issues.",
          "need labels filter on list_issues",
        ],
        tried: ['list_issues(labels="bug") -> unknown argument', "pulled all issues and filtered labels myself, slow"],
        sugg: ["Add labels: string[] to list_issues.", "list_issues(label)", ""],
      },
      {
        key: "codehost/issues-since-date",
        n: 7,
        tools: ["list_issues", null],
        types: ["missing_parameter", "incomplete_results"],
        needs: [
          "filter issues by creation date",
          "issues opened since {date}",
          "need list_issues to return only issues updated in the last 7 days",
          "The user wanted this week's new issues. list_issues has no since/until, so I paged through everything.",
        ],
        tried: ['list_issues(since="{date}") ignored', "sorted by created and stopped manually"],
        sugg: ["Add since / until timestamps to list_issues.", "created_after param"],
      },
      {
        key: "codehost/ci-logs",
        n: 10,
        tools: [null, "get_workflow_run", null],
        types: ["missing_tool", "incomplete_results"],
        needs: [
          "get CI job logs",
          "I needed the log output of the failed workflow run {run} to see why the build broke.",
          "need logs of failing GitHub Actions job",
          "get_workflow_run shows status=failure but not the log, so I cannot tell which test failed",
          "read build logs for a check run",
        ],
        tried: ["get_workflow_run(id={num}) -> conclusion: failure, no logs", "looked for download_logs tool"],
        sugg: [
          "get_job_logs(run_id, job?) returning the tail of the log",
          "Add a logs field (last {num} lines) to get_workflow_run.",
          "",
        ],
      },
      {
        key: "codehost/merge-pr",
        n: 6,
        tools: [null, "update_pull_request"],
        types: ["missing_tool"],
        needs: [
          "merge a pull request",
          "No tool to merge PR #{num} once approved.",
          "need to squash-merge a PR",
          "The user approved and asked me to merge it; I can comment and update the title but not merge.",
        ],
        tried: ['update_pull_request(state="merged") -> invalid state', "searched tools for merge"],
        sugg: ["merge_pull_request(repo, number, method: merge|squash|rebase)", ""],
      },
      {
        key: "codehost/pr-list-by-author",
        n: 5,
        tools: ["list_pull_requests", null],
        types: ["missing_parameter"],
        needs: [
          "list PRs opened by a given user",
          "filter pull requests by author",
          "need author param on list_pull_requests to find {email}'s open PRs",
        ],
        tried: ['list_pull_requests(author="dana") -> unknown', "listed all PRs and matched the user field"],
        sugg: ["Add author to list_pull_requests.", ""],
      },
    ],
    singles: [
      [null, "missing_tool", "create a new branch from main", "no create_branch"],
      ["get_commit", "incomplete_results", "commit response omits the list of changed files", "get_commit(sha={run})"],
      [null, "missing_tool", "see who last changed a line (git blame)", "nothing like blame"],
      ["search_code", "missing_parameter", "limit search_code to one directory", 'search_code(path="src/") ignored'],
      [null, "missing_tool", "list repository releases and their tags", "no releases tool"],
      ["list_issues", "wrong_format", "issue bodies come back as HTML instead of markdown", "list_issues"],
      [null, "missing_tool", "add a label to an issue", "update_issue has no labels"],
      ["get_repository", "incomplete_results", "repo info lacks default branch protection rules", "get_repository"],
      [null, "other", "rate limit errors are not explained (just 403)", "called list_commits in a loop"],
      [null, "missing_tool", "compare two branches (commits ahead/behind)", "no compare"],
      ["list_commits", "missing_parameter", "list commits touching one file path", "list_commits(path=...) unknown"],
    ],
  },
  {
    server: "calendar",
    goals: [
      "Schedule a team offsite next month.",
      "The user wants to clean up their calendar.",
      "Plan a meeting across three time zones.",
      "Summarise the user's week.",
    ],
    gaps: [
      {
        key: "calendar/recurring-events",
        n: 10,
        tools: ["create_event", "create_event", null],
        types: ["missing_parameter", "missing_tool"],
        needs: [
          "create a recurring event",
          "Set up a weekly standup every Monday at 9:30 - create_event only makes single occurrences.",
          "need recurrence rule (RRULE) support when creating events",
          "repeat an event every 2 weeks",
          "I needed a meeting that repeats monthly on the first Tuesday; I had to create {num} separate events instead.",
        ],
        tried: ['create_event(recurrence="RRULE:FREQ=WEEKLY") -> unknown field', "created each occurrence by hand"],
        sugg: [
          "Add recurrence (RFC 5545 RRULE) to create_event.",
          "create_event(..., repeat: {freq, interval, until})",
          "",
        ],
      },
      {
        key: "calendar/timezone-format",
        n: 8,
        tools: ["list_events", "get_event", null],
        types: ["wrong_format"],
        needs: [
          "event times come back without a time zone",
          "Start/end are naive timestamps like {date}T09:00:00 - I can't tell if that's UTC or the organiser's local time.",
          "need timezone info on events",
          "times are returned in UTC only; need them in the calendar's tz or with an offset",
        ],
        tried: ["compared get_event with the web UI, off by 2 hours", "list_events for today"],
        sugg: ["Return ISO 8601 with offset plus the IANA time zone name.", "include timeZone field", ""],
      },
      {
        key: "calendar/free-busy",
        n: 9,
        tools: [null, "list_events"],
        types: ["missing_tool"],
        needs: [
          "find a free slot for several attendees",
          "check availability (free/busy) of {email} and two colleagues",
          "I needed to find a 30-minute window when all four people are free next week; there is no availability tool, and list_events only shows my own calendar.",
          "need a free/busy query across calendars",
          "suggest meeting times that work for everyone",
        ],
        tried: ["list_events for each attendee -> permission denied for others", "guessed a time"],
        sugg: ["freebusy(attendees[], time_min, time_max)", "find_meeting_times(attendees, duration)", ""],
      },
      {
        key: "calendar/events-date-range",
        n: 9,
        tools: ["list_events", "list_events", null],
        types: ["missing_parameter", "incomplete_results"],
        needs: [
          "list events between two dates",
          "list_events only returns today's events; need a time range",
          "events for next week",
          "I needed everything on the calendar from {date} to {date2} to summarise the user's month, but list_events has no start/end parameters.",
          "need time_min/time_max on list_events",
        ],
        tried: ['list_events(start="{date}") ignored', "list_events returns only the next 10 events"],
        sugg: ["Add time_min and time_max to list_events.", "list_events(from, to)", ""],
      },
      {
        key: "calendar/attendee-status",
        n: 7,
        tools: ["get_event", null],
        types: ["incomplete_results"],
        needs: [
          "see which attendees accepted the invite",
          "get_event lists attendee emails but not their RSVP status",
          "need response status (accepted/declined/tentative) for each guest",
          "who declined the meeting?",
        ],
        tried: ['get_event("{id}") -> attendees: [emails]', "no rsvp tool"],
        sugg: ["Include responseStatus per attendee in get_event.", ""],
      },
      {
        key: "calendar/move-event",
        n: 7,
        tools: [null, "update_event"],
        types: ["missing_tool", "missing_parameter"],
        needs: [
          "reschedule an existing event",
          "move the meeting to Thursday 3pm",
          "need to change the start time of event {id}",
          "I was asked to push the review by one hour; there's no way to update the time of an event, only delete and recreate, which loses the attendees' responses.",
        ],
        tried: ["update_event(start=...) -> only title/description editable", "deleted and recreated the event"],
        sugg: ["update_event should accept start and end.", "reschedule_event(event_id, new_start, new_end)"],
      },
    ],
    singles: [
      [null, "missing_tool", "add a video conference link to an event", "no conferencing option"],
      ["create_event", "missing_parameter", "set a reminder 10 minutes before", "create_event has no reminders"],
      [
        null,
        "missing_tool",
        "list the user's calendars (work, personal, shared)",
        "only the primary calendar is visible",
      ],
      ["list_events", "incomplete_results", "event descriptions are truncated to 200 chars", "list_events"],
      [null, "missing_tool", "set an out-of-office / vacation block", "no OOO tool"],
      ["get_event", "wrong_format", "all-day events have a midnight start instead of a date", "get_event"],
      [null, "missing_tool", "book a meeting room", "no rooms/resources"],
      [null, "other", "tool returns 500 when the title contains an emoji", "create_event with emoji"],
      [
        "delete_event",
        "missing_parameter",
        "cancel only one occurrence of a series",
        "delete_event removes the whole series",
      ],
      [null, "missing_tool", "search events by keyword in title", "list_events then scan"],
    ],
  },
  {
    server: "wiki",
    goals: [
      "Answer an employee's question about the expense policy.",
      "Find the runbook for the payments outage.",
      "Write a summary of recent architecture decisions.",
      "The user is writing onboarding docs.",
    ],
    gaps: [
      {
        key: "wiki/search-in-space",
        n: 10,
        tools: ["search_docs", "search_docs", null],
        types: ["missing_parameter"],
        needs: [
          "restrict search to one space",
          "search_docs searches the whole wiki; I needed results only from the Engineering space.",
          "need space filter on search",
          "limit doc search to a single space/section (HR)",
          "filter search results by space key",
        ],
        tried: ['search_docs(query="runbook", space="ENG") -> unknown argument', "got {num} hits from every space"],
        sugg: ["Add space_key to search_docs.", "search_docs(query, space?)", ""],
      },
      {
        key: "wiki/page-history",
        n: 8,
        tools: [null, "get_page"],
        types: ["missing_tool", "incomplete_results"],
        needs: [
          "see the version history of a page",
          "who changed this page and when",
          "need previous revisions of page {id} to see what changed in the policy",
          "get an older version of a doc",
        ],
        tried: ['get_page("{id}") -> only current version', "no history tool"],
        sugg: ["get_page_history(page_id) and get_page(page_id, version)", ""],
      },
      {
        key: "wiki/search-snippets",
        n: 9,
        tools: ["search_docs", null],
        types: ["incomplete_results"],
        needs: [
          "search results only contain titles",
          "search_docs returns page titles and ids without any excerpt, so I had to open {num} pages to find the answer",
          "need text snippets / highlights in search results",
          "search should return the matching passage",
        ],
        tried: ['search_docs("expense policy") then get_page for each hit'],
        sugg: ["Include a highlighted excerpt per hit.", "return snippet field", ""],
      },
      {
        key: "wiki/page-markdown",
        n: 8,
        tools: ["get_page", null],
        types: ["wrong_format"],
        needs: [
          "page content comes back as raw HTML storage format",
          "need page body as markdown or plain text",
          "get_page returns XHTML with macros (<ac:structured-macro>) that is hard to read",
          "The page body is full of storage-format markup; I wanted clean markdown to quote from.",
        ],
        tried: ['get_page("{id}")', "stripped tags myself, lost tables"],
        sugg: ["Add format=markdown|text to get_page.", ""],
      },
      {
        key: "wiki/create-page",
        n: 8,
        tools: [null],
        types: ["missing_tool"],
        needs: [
          "create a new page",
          "write a new doc in the Onboarding space",
          "no tool to publish or edit a page",
          "The user asked me to save the meeting notes to the wiki under Team/Notes; the server is read-only.",
        ],
        tried: ["looked for create_page / update_page", "only search and get"],
        sugg: ["create_page(space, parent_id, title, body_markdown)", "add write tools: create_page, update_page", ""],
      },
      {
        key: "wiki/recently-updated",
        n: 7,
        tools: ["search_docs", null, "list_pages"],
        types: ["missing_parameter", "missing_tool"],
        needs: [
          "find pages updated since {date}",
          "list recently changed pages",
          "need to filter search by last modified date",
          "what was edited in the last week",
        ],
        tried: ['search_docs(query="*") has no date sort', "list_pages has no modified field"],
        sugg: ["updated_after param on search_docs", "recently_updated(space?, since)", ""],
      },
      {
        key: "wiki/page-attachments",
        n: 6,
        tools: ["get_page", null],
        types: ["incomplete_results", "missing_tool"],
        needs: [
          "get attachments of a page",
          "download the file attached to page {id}",
          "need to read the PDF attached to the policy page",
        ],
        tried: ["get_page shows an attachment macro but no link"],
        sugg: ["list_attachments(page_id) and get_attachment(id)", ""],
      },
    ],
    singles: [
      [null, "missing_tool", "list child pages of a page", "no tree navigation"],
      ["search_docs", "missing_parameter", "search by author", "no author filter"],
      [null, "missing_tool", "add a comment on a page", "read-only"],
      ["get_page", "incomplete_results", "page labels/tags missing", "get_page"],
      [null, "missing_tool", "resolve a short link (/x/AbC12) to a page", "no resolver"],
      ["search_docs", "wrong_format", "search results scores are missing so I cannot rank", "search_docs"],
      [null, "other", "search is case sensitive, 'VPN' vs 'vpn' differ", "search_docs both ways"],
      [null, "missing_tool", "export a space as PDF", "no export"],
      ["get_page", "missing_parameter", "get a page by title instead of id", "get_page requires id"],
      [null, "missing_tool", "watch a page for changes", "no notifications"],
    ],
  },
  {
    server: "sqldb",
    goals: [
      "Build a churn dashboard for the user.",
      "Debug a slow report query.",
      "Answer 'how many active customers do we have'.",
      "Clean up duplicate rows in the orders table.",
    ],
    gaps: [
      {
        key: "sqldb/describe-table",
        n: 10,
        tools: [null, "list_tables"],
        types: ["missing_tool", "incomplete_results"],
        needs: [
          "describe a table's columns and types",
          "need the schema of table orders",
          "list_tables gives names only; I needed column names and data types to write the query",
          "get table schema (columns, types, nullability)",
          "I wrote a query against customers but guessed the column names wrong twice because I couldn't inspect the table definition.",
        ],
        tried: [
          'list_tables -> ["orders", "customers", ...]',
          'run_query("SELECT * FROM orders LIMIT 1") as a workaround',
          "DESCRIBE orders -> not allowed",
        ],
        sugg: ["describe_table(name) -> [{column, type, nullable, default}]", "include columns in list_tables", ""],
      },
      {
        key: "sqldb/explain-plan",
        n: 7,
        tools: [null, "run_query"],
        types: ["missing_tool"],
        needs: [
          "get the query plan",
          "EXPLAIN ANALYZE for a slow query",
          "need to see why the report query takes {num} seconds - an execution plan",
          "explain a query",
        ],
        tried: ['run_query("EXPLAIN ...") -> only SELECT statements allowed'],
        sugg: ["explain_query(sql) returning the plan as text or JSON", ""],
      },
      {
        key: "sqldb/query-timeout",
        n: 8,
        tools: ["run_query", "run_query", null],
        types: ["missing_parameter", "other"],
        needs: [
          "queries time out after 30 seconds",
          "need a longer timeout for heavy analytical queries",
          "run_query kills anything over 30s, my aggregate over {num}M rows needs ~2 minutes",
          "configurable statement timeout",
        ],
        tried: ["run_query(...) -> error: canceling statement due to statement timeout", "split the query by month"],
        sugg: ["Add timeout_seconds to run_query (capped).", "allow a per-query timeout", ""],
      },
      {
        key: "sqldb/row-limit",
        n: 9,
        tools: ["run_query", "run_query", null],
        types: ["incomplete_results"],
        needs: [
          "results truncated at 1000 rows",
          "run_query silently cuts results off at {num} rows; no indication there are more",
          "need all rows of the result, or a way to page through them",
          "I exported the active customers but only got the first thousand, with no cursor or truncated flag to tell me.",
        ],
        tried: ["added LIMIT 5000 -> still 1000", "used OFFSET in a loop"],
        sugg: [
          "Return truncated: true and a cursor to fetch the next page.",
          "raise the row cap or stream results",
          "",
        ],
      },
      {
        key: "sqldb/bind-parameters",
        n: 6,
        tools: ["run_query", null],
        types: ["missing_parameter"],
        needs: [
          "parameterised queries",
          "need bind parameters ($1, $2) so I don't have to interpolate user input into SQL",
          "pass query params separately from the SQL text",
        ],
        tried: ["run_query(sql, params=[...]) -> unknown argument", "escaped strings by hand"],
        sugg: ["run_query(sql, params: unknown[])", ""],
      },
      {
        key: "sqldb/write-statements",
        n: 7,
        tools: ["run_query", null],
        types: ["missing_tool", "other"],
        needs: [
          "run an UPDATE / DELETE",
          "the server is read-only; I needed to delete duplicate rows",
          "need write access to insert rows",
          "execute DML statements",
        ],
        tried: ['run_query("DELETE FROM orders WHERE ...") -> read-only transaction'],
        sugg: ["execute_statement(sql) behind a confirmation", ""],
      },
      {
        key: "sqldb/json-columns-format",
        n: 6,
        tools: ["run_query", null],
        types: ["wrong_format"],
        needs: [
          "JSON columns come back as escaped strings",
          "jsonb values are returned as text, I have to parse them again",
          "timestamps and json returned as plain strings, need typed values",
        ],
        tried: ["SELECT payload FROM events LIMIT {num}"],
        sugg: ["Return JSON columns as JSON objects.", ""],
      },
    ],
    singles: [
      [null, "missing_tool", "list database views and functions", "list_tables only shows tables"],
      ["run_query", "wrong_format", 'numeric columns come back as strings ("12.50")', "run_query"],
      [null, "missing_tool", "switch to another database/schema", "only public schema"],
      ["list_tables", "incomplete_results", "row counts per table", "list_tables"],
      [null, "missing_tool", "see foreign keys between tables", "no relationships tool"],
      ["run_query", "other", "error messages don't include the failing line", "run_query with a typo"],
      [null, "missing_tool", "export query result to CSV", "copy output manually"],
      [null, "missing_tool", "list indexes on a table", "no index info"],
      ["run_query", "missing_parameter", "choose read replica vs primary", "always primary"],
    ],
  },
  {
    server: "storage",
    goals: [
      "Clean up old build artifacts to save space.",
      "Find where the exported reports were saved.",
      "Back up the user's project folder.",
      "Process the uploaded CSV files.",
    ],
    gaps: [
      {
        key: "storage/recursive-listing",
        n: 10,
        tools: ["list_files", "list_files", null],
        types: ["missing_parameter", "incomplete_results"],
        needs: [
          "list files recursively",
          "list_files only shows the top level of a directory; I needed everything under /data including subfolders.",
          "need recursive directory listing",
          "walk a folder tree",
          "get all nested files under a prefix",
        ],
        tried: ['list_files("{path}") -> only direct children', "called list_files on each subfolder, {num} calls"],
        sugg: ["Add recursive: boolean (with max_depth) to list_files.", "a walk(path) tool", ""],
      },
      {
        key: "storage/filter-by-extension",
        n: 8,
        tools: ["list_files", null],
        types: ["missing_parameter"],
        needs: [
          "filter files by extension",
          "list only *.csv files",
          "need glob pattern matching in list_files",
          "I needed just the .log files in the folder but list_files returns everything, {num} entries",
        ],
        tried: ['list_files(pattern="*.csv") -> unknown argument', "filtered names client-side"],
        sugg: ["Add a glob pattern to list_files.", "list_files(path, pattern?)", ""],
      },
      {
        key: "storage/move-rename",
        n: 8,
        tools: [null],
        types: ["missing_tool"],
        needs: [
          "move or rename a file",
          "rename report_final.csv to report_{date}.csv",
          "no move tool; need to move files into an archive folder",
          "The user asked me to reorganise the exports into per-year folders; I can read, write and delete, but there is no move, so I'd have to copy every byte through myself.",
        ],
        tried: ["read_file + write_file + delete_file as a workaround", "looked for mv/rename"],
        sugg: ["move_file(src, dst)", "rename(path, new_name)", ""],
      },
      {
        key: "storage/file-metadata",
        n: 7,
        tools: ["list_files", "get_file_info", null],
        types: ["incomplete_results"],
        needs: [
          "file size and modified time",
          "list_files returns names only, I needed sizes to find what is taking up space",
          "need last-modified timestamps of files",
          "get metadata (size, mtime, content type)",
        ],
        tried: ['list_files -> ["a.csv", "b.csv"]', "read each file to measure it"],
        sugg: ["Include size and modified_at in list_files entries.", ""],
      },
      {
        key: "storage/read-large-file",
        n: 8,
        tools: ["read_file", "read_file", null],
        types: ["incomplete_results", "missing_parameter"],
        needs: [
          "read_file truncates large files",
          "need to read a byte range / offset of a big log",
          "the file is 2 GB and read_file stops after 1 MB with no way to continue",
          "read the tail of a log file ({path})",
        ],
        tried: ['read_file("{path}") -> truncated at 1048576 bytes', "no offset param"],
        sugg: ["Add offset and length to read_file.", "read_file(path, start, end)", ""],
      },
      {
        key: "storage/binary-files",
        n: 6,
        tools: ["read_file", null],
        types: ["wrong_format"],
        needs: [
          "binary files come back garbled",
          "need base64 content for images/zip files",
          "read_file decodes everything as UTF-8 and mangles a PNG",
        ],
        tried: ['read_file("logo.png") -> replacement characters'],
        sugg: ["encoding=base64 option on read_file", ""],
      },
      {
        key: "storage/modified-since",
        n: 6,
        tools: ["list_files", null],
        types: ["missing_parameter"],
        needs: [
          "list files modified since {date}",
          "only files changed in the last 24 hours",
          "need to find files older than 30 days to clean them up",
        ],
        tried: ["list_files has no date filter", "listed everything"],
        sugg: ["modified_after / modified_before on list_files", ""],
      },
      {
        key: "storage/share-link",
        n: 5,
        tools: [null],
        types: ["missing_tool"],
        needs: [
          "create a shareable download link",
          "presigned URL for a file",
          "need a public link to send {path} to a customer",
        ],
        tried: ["no share tool"],
        sugg: ["create_share_link(path, expires_in)", ""],
      },
    ],
    singles: [
      [null, "missing_tool", "compute a checksum (sha256) of a file", "read whole file"],
      ["write_file", "missing_parameter", "append to a file instead of overwriting", "write_file overwrites"],
      [null, "missing_tool", "copy a folder", "no copy"],
      ["delete_file", "missing_parameter", "delete a folder and its contents", "delete_file refuses directories"],
      [null, "missing_tool", "unzip an archive", "no extract tool"],
      ["list_files", "wrong_format", "paths are relative and ambiguous; want absolute paths", "list_files"],
      [null, "other", "permission denied errors don't say which path", "read_file"],
      [null, "missing_tool", "check free disk space / quota", "nothing"],
      ["read_file", "missing_parameter", "choose the text encoding (latin-1)", "read_file assumes utf-8"],
      [null, "missing_tool", "search file contents (grep)", "read every file"],
    ],
  },
];

const RESOLUTIONS: (Resolution | null)[] = ["blocked", "worked_around", "partial", null];
const PREFACES = [
  "",
  "",
  "",
  "",
  "",
  "While working on the user's request, ",
  "The user asked for this. ",
  "Hi! ",
  "Context: ",
];

function capitalise(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

export function makeCorpus(seed = 20240601): CorpusReport[] {
  const rng = new Rng(seed);
  const out: Omit<CorpusReport, "id">[] = [];
  for (const s of SERVERS) {
    for (const g of s.gaps) {
      for (let i = 0; i < g.n; i++) {
        let need = fill(rng, rng.pick(g.needs));
        if (rng.chance(0.12)) need = typo(rng, need);
        if (rng.chance(0.2)) need = need.toLowerCase();
        const pre = rng.pick(PREFACES);
        if (pre !== "") need = pre + (pre.endsWith(", ") ? need : capitalise(need));
        const sugg = rng.chance(0.3) ? "" : fill(rng, rng.pick(g.sugg));
        out.push({
          gap: g.key,
          server_name: s.server,
          tool_name: rng.pick(g.tools),
          gap_type: rng.pick(g.types),
          resolution: rng.pick(RESOLUTIONS),
          what_i_needed: need,
          what_i_tried: fill(rng, rng.pick(g.tried)),
          suggestion: sugg === "" ? null : sugg,
          user_goal: rng.chance(0.5) ? rng.pick(s.goals) : null,
        });
      }
    }
    s.singles.forEach(([tool, type, need, tried], i) => {
      out.push({
        gap: `${s.server}/single-${i}`,
        server_name: s.server,
        tool_name: tool,
        gap_type: type,
        resolution: rng.pick(RESOLUTIONS),
        what_i_needed: fill(rng, need),
        what_i_tried: fill(rng, tried),
        suggestion: null,
        user_goal: rng.chance(0.4) ? rng.pick(s.goals) : null,
      });
    });
  }
  // Shuffle (reports of one gap arrive spread over time, not in a block), then number them.
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.map((r, i) => ({ id: i + 1, ...r }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const corpus = makeCorpus();
  const path = fileURLToPath(new URL("./corpus.jsonl", import.meta.url));
  writeFileSync(path, `${corpus.map((r) => JSON.stringify(r)).join("\n")}\n`);
  console.log(`wrote ${corpus.length} reports, ${new Set(corpus.map((r) => r.gap)).size} gaps to ${path}`);
}
