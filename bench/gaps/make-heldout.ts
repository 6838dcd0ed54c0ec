/**
 * Generates bench/gaps/heldout.jsonl: a second labelled corpus, written after the grouping
 * parameters were frozen, in another style (every report written out by hand, no templates or
 * recombination; other servers and vocabulary). Never tune against it.
 *   npx tsx bench/gaps/make-heldout.ts
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GapType } from "../../src/feedback/index.js";
import type { CorpusReport } from "./make-corpus.js";

/** [what_i_needed, what_i_tried, suggestion, tool_name, gap_type] */
type R = [string, string, string | null, string | null, GapType];

const GAPS: Record<string, Record<string, R[]>> = {
  crm: {
    "deals-by-stage": [
      [
        "Show only deals in the Negotiation stage",
        "crm_list_deals returned 412 deals of every stage",
        "stage filter on crm_list_deals",
        "crm_list_deals",
        "missing_parameter",
      ],
      ["pipeline stage filter for deals", "no stage argument", null, "crm_list_deals", "missing_parameter"],
      [
        "I wanted the open opportunities that are at 'proposal sent' so I can chase them; the deal list can't be narrowed by pipeline stage.",
        "Fetched all deals and dropped the others locally.",
        "Accept stage (one or many) in crm_list_deals.",
        null,
        "missing_parameter",
      ],
      [
        "list deals where stage = closed-won",
        "crm_list_deals(stage='closed-won') -> invalid params",
        null,
        "crm_list_deals",
        "missing_parameter",
      ],
      ["Deals by pipeline stage", "crm_list_deals", "add stage param", "crm_list_deals", "incomplete_results"],
    ],
    "deals-by-owner": [
      [
        "Only the deals owned by sales rep Priya",
        "crm_list_deals has no owner argument",
        "owner_id filter on crm_list_deals",
        "crm_list_deals",
        "missing_parameter",
      ],
      [
        "filter deals by account owner",
        "listed all deals, matched owner names by hand",
        null,
        "crm_list_deals",
        "missing_parameter",
      ],
      [
        "The manager wants each rep's open deals. I could not restrict the deal list to one owner.",
        "crm_list_deals then grouped client side, 9 calls",
        "crm_list_deals(owner_email)",
        null,
        "missing_parameter",
      ],
      ["deals assigned to me", "crm_list_deals(owner='me') ignored", null, "crm_list_deals", "missing_parameter"],
    ],
    "merge-contacts": [
      [
        "Merge two duplicate contact records",
        "Found both with crm_search_contacts; there is no merge.",
        "crm_merge_contacts(primary_id, duplicate_id)",
        null,
        "missing_tool",
      ],
      [
        "dedupe contacts - combine jane@globex.com and j.doe@globex.com into one",
        "no merge operation available",
        null,
        null,
        "missing_tool",
      ],
      [
        "There are three copies of the same person in the CRM after an import. I needed to merge them, keeping the notes and activities of all three.",
        "crm_update_contact can change fields but not merge; deleting would lose history.",
        "A merge tool that moves activities to the survivor.",
        null,
        "missing_tool",
      ],
      ["merge duplicate contacts", "n/a", null, null, "missing_tool"],
    ],
    "activity-timeline": [
      [
        "See the full activity history for a contact (calls, emails, meetings)",
        "crm_get_contact only returns profile fields",
        "crm_list_activities(contact_id)",
        "crm_get_contact",
        "incomplete_results",
      ],
      ["need the interaction log for an account", "nothing returns past activities", null, null, "missing_tool"],
      [
        "When did we last talk to Initech? I couldn't get the timeline of touchpoints for the company.",
        "crm_get_company has last_modified but no activity list",
        "Return recent activities in crm_get_company, or a separate activities tool.",
        "crm_get_company",
        "incomplete_results",
      ],
      ["contact activity feed missing", "crm_get_contact(id=88213)", null, "crm_get_contact", "incomplete_results"],
      ["list all logged calls and emails with this customer", "searched notes instead", null, null, "missing_tool"],
    ],
    "custom-fields": [
      [
        "Custom fields (e.g. 'Renewal Month') are not in the contact payload",
        "crm_get_contact(id=5521)",
        "Include custom_properties in responses",
        "crm_get_contact",
        "incomplete_results",
      ],
      [
        "read the custom properties on a company record",
        "crm_get_company returns standard fields only",
        null,
        "crm_get_company",
        "incomplete_results",
      ],
      [
        "Our account has custom attributes like 'Tier' and 'CSM'; none of them come back from the CRM tools so I can't segment by tier.",
        "checked get_contact and get_company outputs",
        "expose custom fields",
        null,
        "incomplete_results",
      ],
    ],
  },
  monitoring: {
    "metric-query-range": [
      [
        "Query CPU usage for the past 6 hours, not just the latest value",
        "mon_get_metric returned a single point",
        "start/end or lookback on mon_get_metric",
        "mon_get_metric",
        "missing_parameter",
      ],
      [
        "time series over an interval for a metric",
        "mon_get_metric(name='p99_latency')",
        null,
        "mon_get_metric",
        "missing_parameter",
      ],
      [
        "I needed the error-rate history from yesterday 14:00 to 16:00 to correlate with the deploy, but mon_get_metric only gives the current reading.",
        "tried adding from/to args - rejected",
        "mon_get_metric(name, from, to, step)",
        "mon_get_metric",
        "missing_parameter",
      ],
      [
        "get metric values between 2024-02-01T10:00Z and 2024-02-01T12:00Z",
        "only instant value",
        null,
        null,
        "missing_parameter",
      ],
      [
        "historical data for memory metric",
        "mon_get_metric -> {value: 71.2}",
        "support range queries",
        "mon_get_metric",
        "incomplete_results",
      ],
    ],
    "silence-alert": [
      [
        "Silence an alert during planned maintenance",
        "mon_list_alerts works, nothing to mute",
        "mon_silence_alert(alert_id, duration)",
        null,
        "missing_tool",
      ],
      ["mute alerts for host db-7 for 2 hours", "no silence tool", null, null, "missing_tool"],
      [
        "We're about to restart the cluster; I needed to snooze the paging alerts so on-call isn't woken up. There is no way to acknowledge or mute.",
        "looked for ack/mute/snooze in tools",
        "Add snooze/mute with an expiry.",
        null,
        "missing_tool",
      ],
      ["acknowledge a firing alert", "mon_get_alert(id=a-4471)", null, "mon_get_alert", "missing_tool"],
    ],
    "alert-labels": [
      [
        "Filter alerts by severity",
        "mon_list_alerts returns everything including info-level",
        "severity param",
        "mon_list_alerts",
        "missing_parameter",
      ],
      [
        "only critical alerts please",
        "mon_list_alerts(severity='critical') unknown arg",
        null,
        "mon_list_alerts",
        "missing_parameter",
      ],
      [
        "list alerts with severity >= warning for the payments service",
        "got 300 alerts, filtered myself",
        "mon_list_alerts(min_severity, service)",
        "mon_list_alerts",
        "missing_parameter",
      ],
    ],
    "logs-search": [
      [
        "Search application logs for a request id",
        "no log tools at all, only metrics and alerts",
        "mon_search_logs(query, from, to)",
        null,
        "missing_tool",
      ],
      ["grep logs for 'OutOfMemoryError' in the last hour", "not possible", null, null, "missing_tool"],
      [
        "I had a trace id (4f1c9a0b7e) from the user's error page and wanted the matching log lines, but the server exposes no way to query logs.",
        "checked every tool",
        "log search tool",
        null,
        "missing_tool",
      ],
      ["need log querying", "none", null, null, "missing_tool"],
      [
        "find error logs for service checkout",
        "mon_list_alerts only",
        "search logs by service and level",
        null,
        "missing_tool",
      ],
    ],
    "dashboard-units": [
      [
        "Metric values have no unit - is 340 milliseconds or seconds?",
        "mon_get_metric(name='latency')",
        "return unit with each metric",
        "mon_get_metric",
        "wrong_format",
      ],
      ["units missing in metric output (bytes? MB?)", "compared with the UI", null, "mon_get_metric", "wrong_format"],
      [
        "The memory metric came back as 2147483648 with no unit or scale, so I told the user the wrong number at first.",
        "guessed bytes",
        "Add a unit field.",
        null,
        "wrong_format",
      ],
    ],
  },
  email: {
    "send-attachment": [
      [
        "Attach a file when sending an email",
        "mail_send has to/subject/body only",
        "attachments: [{filename, content_base64}] on mail_send",
        "mail_send",
        "missing_parameter",
      ],
      [
        "send an email with the PDF report attached",
        "mail_send(attachments=[...]) rejected",
        null,
        "mail_send",
        "missing_parameter",
      ],
      [
        "The user wanted the quarterly report emailed to the board with the spreadsheet attached. I could only paste a link into the body.",
        "used a link instead",
        "support attachments",
        null,
        "missing_parameter",
      ],
      ["attachments on outgoing mail", "mail_send", null, "mail_send", "missing_parameter"],
    ],
    "read-attachment": [
      [
        "Open the attachment of a received message",
        "mail_get_message shows attachment names but no content",
        "mail_get_attachment(message_id, attachment_id)",
        "mail_get_message",
        "incomplete_results",
      ],
      ["download invoice.pdf from the email Bob sent", "only the filename is visible", null, null, "missing_tool"],
      [
        "I needed to read the CSV someone emailed the user, but the message tool lists attachments without any way to fetch their bytes.",
        "mail_get_message(id='m_77a1')",
        "return attachment content or a download tool",
        "mail_get_message",
        "incomplete_results",
      ],
    ],
    "search-by-sender": [
      [
        "Find all emails from a specific sender",
        "mail_search only matches subject text",
        "from: filter on mail_search",
        "mail_search",
        "missing_parameter",
      ],
      [
        "search mail by sender address (noreply@stripe.com)",
        "mail_search('stripe') found unrelated mails",
        null,
        "mail_search",
        "missing_parameter",
      ],
      [
        "emails from my manager last week",
        "mail_search has no from or date options",
        "from and after/before params",
        "mail_search",
        "missing_parameter",
      ],
      ["filter inbox by who sent it", "mail_list_inbox", null, "mail_list_inbox", "missing_parameter"],
    ],
    "thread-view": [
      [
        "Get the whole conversation thread, not just one message",
        "mail_get_message returns a single message",
        "mail_get_thread(thread_id)",
        "mail_get_message",
        "incomplete_results",
      ],
      ["need the replies in an email thread", "followed In-Reply-To headers by hand", null, null, "missing_tool"],
      [
        "To summarise the discussion I needed every message in the thread in order; I could only fetch them one by one and guess which belong together.",
        "mail_search by subject 'Re: Q3 plan'",
        "A thread tool returning messages in order.",
        null,
        "missing_tool",
      ],
      ["email thread / conversation view", "none", null, null, "missing_tool"],
    ],
    "html-body": [
      [
        "message body comes back as raw HTML with inline CSS",
        "mail_get_message",
        "offer a plain-text body",
        "mail_get_message",
        "wrong_format",
      ],
      [
        "need plain text version of emails, HTML is unreadable",
        "stripped tags myself",
        null,
        "mail_get_message",
        "wrong_format",
      ],
      [
        "Newsletters arrive as huge HTML blobs; I wanted the text part of the multipart message.",
        "mail_get_message(id='m_1209')",
        "return text/plain part when present",
        null,
        "wrong_format",
      ],
    ],
    "schedule-send": [
      [
        "Send an email later (schedule it for Monday 8am)",
        "mail_send sends immediately",
        "send_at parameter",
        "mail_send",
        "missing_parameter",
      ],
      ["schedule an email for tomorrow morning", "no delay option", null, null, "missing_parameter"],
      ["delayed send", "mail_send", null, "mail_send", "missing_parameter"],
    ],
  },
  helpdesk: {
    "ticket-priority-filter": [
      [
        "List only urgent tickets",
        "hd_list_tickets returns all priorities",
        "priority filter on hd_list_tickets",
        "hd_list_tickets",
        "missing_parameter",
      ],
      [
        "filter tickets by priority = high",
        "hd_list_tickets(priority='high') unknown",
        null,
        "hd_list_tickets",
        "missing_parameter",
      ],
      [
        "The support lead asked for every P1 ticket still open; the ticket list can't be filtered by priority.",
        "paged through 12 pages",
        "hd_list_tickets(priority)",
        null,
        "missing_parameter",
      ],
    ],
    "ticket-status-filter": [
      [
        "Only open tickets, not closed/solved ones",
        "hd_list_tickets returns solved ones too",
        "status filter",
        "hd_list_tickets",
        "missing_parameter",
      ],
      ["list tickets by status (pending)", "no status param", null, "hd_list_tickets", "missing_parameter"],
      [
        "I need the unresolved tickets only",
        "filtered myself",
        "hd_list_tickets(status='open')",
        "hd_list_tickets",
        "missing_parameter",
      ],
    ],
    "internal-note": [
      [
        "Add an internal note to a ticket (not visible to the customer)",
        "hd_reply_ticket always sends a public reply",
        "is_internal flag on hd_reply_ticket",
        "hd_reply_ticket",
        "missing_parameter",
      ],
      ["private comment on ticket #4412", "only public replies possible", null, "hd_reply_ticket", "missing_parameter"],
      [
        "I wanted to leave a note for the next agent without emailing the customer. Every reply goes out to the requester.",
        "did not reply",
        "support internal notes",
        null,
        "missing_parameter",
      ],
      ["internal note on a ticket", "hd_reply_ticket", null, "hd_reply_ticket", "missing_parameter"],
    ],
    "customer-satisfaction": [
      [
        "Get CSAT scores for solved tickets",
        "hd_get_ticket has no satisfaction rating",
        "include satisfaction_rating",
        "hd_get_ticket",
        "incomplete_results",
      ],
      ["satisfaction survey results per agent", "no reporting tools", null, null, "missing_tool"],
      [
        "The user asked how happy customers were last month; I couldn't find satisfaction ratings anywhere.",
        "hd_get_ticket on a few solved tickets",
        "a CSAT report tool",
        null,
        "missing_tool",
      ],
    ],
    "sla-breach": [
      [
        "Which tickets are about to breach SLA",
        "hd_list_tickets has no SLA info",
        "sla_due_at on tickets and a breach filter",
        "hd_list_tickets",
        "incomplete_results",
      ],
      ["SLA deadline per ticket", "hd_get_ticket(id=9911)", null, "hd_get_ticket", "incomplete_results"],
      [
        "I needed to warn the team about tickets close to missing their response-time target, but tickets carry no SLA timer.",
        "computed from created_at guessing a 4h target",
        "expose SLA timers",
        null,
        "incomplete_results",
      ],
    ],
  },
};

/** One-off needs: [server, need, tried, tool, type]. */
const SINGLES: [string, string, string, string | null, GapType][] = [
  ["crm", "Convert a lead into a contact", "no conversion tool", null, "missing_tool"],
  ["crm", "phone numbers come back without country code", "crm_get_contact", "crm_get_contact", "wrong_format"],
  ["crm", "create a task reminder for a deal", "nothing for tasks", null, "missing_tool"],
  ["crm", "bulk import 200 contacts from CSV", "crm_create_contact one at a time", null, "missing_tool"],
  ["crm", "deal amounts ignore the currency of the deal", "crm_list_deals", "crm_list_deals", "wrong_format"],
  [
    "crm",
    "search companies by domain name",
    "crm_search_companies only by name",
    "crm_search_companies",
    "missing_parameter",
  ],
  ["monitoring", "list hosts and their status", "nothing lists infrastructure", null, "missing_tool"],
  ["monitoring", "create a new alert rule", "read-only alerts", null, "missing_tool"],
  ["monitoring", "who is on call right now", "no on-call schedule", null, "missing_tool"],
  ["monitoring", "uptime percentage for last 30 days", "no SLO tools", null, "missing_tool"],
  ["monitoring", "mon_list_alerts times are epoch seconds", "mon_list_alerts", "mon_list_alerts", "wrong_format"],
  ["monitoring", "compare metrics between two services on one chart", "two calls", null, "other"],
  ["email", "move a message to a folder / label it", "no organise tools", null, "missing_tool"],
  ["email", "mark emails as read", "nothing changes state", null, "missing_tool"],
  ["email", "get the user's email signature", "not exposed", null, "missing_tool"],
  ["email", "CC and BCC recipients on send", "mail_send only has to", "mail_send", "missing_parameter"],
  ["email", "unsubscribe from a mailing list", "no tool", null, "missing_tool"],
  [
    "email",
    "count of unread messages",
    "mail_list_inbox returns 50 items only",
    "mail_list_inbox",
    "incomplete_results",
  ],
  ["helpdesk", "merge two tickets from the same customer", "no merge", null, "missing_tool"],
  [
    "helpdesk",
    "reassign a ticket to another group",
    "hd_update_ticket lacks group",
    "hd_update_ticket",
    "missing_parameter",
  ],
  ["helpdesk", "list macros / canned responses", "none", null, "missing_tool"],
  [
    "helpdesk",
    "ticket description is truncated at 500 characters",
    "hd_get_ticket",
    "hd_get_ticket",
    "incomplete_results",
  ],
  ["helpdesk", "tag a ticket", "no tags", null, "missing_tool"],
  ["helpdesk", "search the knowledge base articles", "only tickets are searchable", null, "missing_tool"],
];

export function makeHeldout(): CorpusReport[] {
  const out: Omit<CorpusReport, "id">[] = [];
  for (const [server, gaps] of Object.entries(GAPS)) {
    for (const [key, reports] of Object.entries(gaps)) {
      for (const [need, tried, suggestion, tool, type] of reports) {
        out.push({
          gap: `${server}/${key}`,
          server_name: server,
          tool_name: tool,
          gap_type: type,
          resolution: null,
          what_i_needed: need,
          what_i_tried: tried,
          suggestion,
          user_goal: null,
        });
      }
    }
  }
  SINGLES.forEach(([server, need, tried, tool, type], i) => {
    out.push({
      gap: `${server}/single-${i}`,
      server_name: server,
      tool_name: tool,
      gap_type: type,
      resolution: null,
      what_i_needed: need,
      what_i_tried: tried,
      suggestion: null,
      user_goal: null,
    });
  });
  // A fixed interleaving (every 7th item, cycling) so that one gap's reports do not arrive together.
  const order: typeof out = [];
  for (let start = 0; start < 7; start++) for (let i = start; i < out.length; i += 7) order.push(out[i]!);
  return order.map((r, i) => ({ id: i + 1, ...r }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const corpus = makeHeldout();
  const path = fileURLToPath(new URL("./heldout.jsonl", import.meta.url));
  writeFileSync(path, `${corpus.map((r) => JSON.stringify(r)).join("\n")}\n`);
  console.log(`wrote ${corpus.length} reports, ${new Set(corpus.map((r) => r.gap)).size} gaps to ${path}`);
}
