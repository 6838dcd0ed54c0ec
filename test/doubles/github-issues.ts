/**
 * The issue endpoints of the GitHub double (test/doubles/github.ts): create,
 * get, update (state with state_reason, as GitHub records a close or a
 * reopen), list for a repository (state, since, per_page/page with a Link
 * header, pull requests included as GitHub does) and GET /user. JSON shapes,
 * status codes and second-precision timestamps as GitHub sends them.
 */

const DOCS = "https://docs.github.com/rest";
/** GitHub refuses issue bodies longer than this. */
const BODY_MAX = 65_536;
const TITLE_MAX = 256;
const STATE_REASONS = ["completed", "not_planned", "duplicate", "reopened"] as const;

export interface DoubleIssue {
  number: number;
  title: string;
  body: string;
  /** The author's login. */
  user: string;
  state: "open" | "closed";
  state_reason: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  html_url: string;
  /** Set for the pull requests GitHub lists among issues. */
  pull_request?: true;
}

export interface IssueRepo {
  owner: string;
  name: string;
  id: number;
}

/** GitHub's timestamps: seconds, UTC, with a Z. */
export const githubTime = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

export class IssueTracker {
  /** Issues (and pulls, listed as GitHub lists them) per repository, by lower-cased full name. */
  private readonly byRepo = new Map<string, DoubleIssue[]>();
  /** The login the accepted token belongs to (authors the issues it creates). */
  login = "patchworkmcp-bot";
  /** The double's clock (tests move it to order events exactly). */
  now: () => Date = () => new Date();

  list(fullName: string): DoubleIssue[] {
    return (this.byRepo.get(fullName.toLowerCase()) ?? []).filter((i) => !i.pull_request);
  }

  /** Issues and pull requests share one number sequence per repository. */
  nextNumber(fullName: string): number {
    return (this.byRepo.get(fullName.toLowerCase())?.length ?? 0) + 1;
  }

  /** Record a pull request under its number, so issues never take it (GitHub lists PRs as issues too). */
  notePull(repo: IssueRepo, number: number, title: string, body: string): void {
    const at = githubTime(this.now());
    this.items(repo).push({
      number,
      title,
      body,
      user: this.login,
      state: "open",
      state_reason: null,
      created_at: at,
      updated_at: at,
      closed_at: null,
      html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${number}`,
      pull_request: true,
    });
  }

  /** Put an issue there directly (as another user, or as a run that died before it stored the link). */
  add(repo: IssueRepo, input: { title: string; body: string; user?: string }): DoubleIssue {
    const at = githubTime(this.now());
    const items = this.items(repo);
    const issue: DoubleIssue = {
      number: items.length + 1,
      title: input.title,
      body: input.body,
      user: input.user ?? this.login,
      state: "open",
      state_reason: null,
      created_at: at,
      updated_at: at,
      closed_at: null,
      html_url: `https://github.com/${repo.owner}/${repo.name}/issues/${items.length + 1}`,
    };
    items.push(issue);
    return issue;
  }

  private items(repo: IssueRepo): DoubleIssue[] {
    const key = `${repo.owner}/${repo.name}`.toLowerCase();
    let items = this.byRepo.get(key);
    if (!items) {
      items = [];
      this.byRepo.set(key, items);
    }
    return items;
  }

  private json(apiUrl: string, repo: IssueRepo, i: DoubleIssue): Record<string, unknown> {
    const base = `${apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      url: `${base}/issues/${i.number}`,
      repository_url: base,
      labels_url: `${base}/issues/${i.number}/labels{/name}`,
      comments_url: `${base}/issues/${i.number}/comments`,
      events_url: `${base}/issues/${i.number}/events`,
      html_url: i.html_url,
      id: 7000 + i.number,
      node_id: `I_${repo.id}_${i.number}`,
      number: i.number,
      title: i.title,
      user: { login: i.user, id: i.user === this.login ? 1 : 2, type: "User", site_admin: false },
      labels: [],
      state: i.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: 0,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      author_association: i.user === this.login ? "OWNER" : "NONE",
      active_lock_reason: null,
      body: i.body,
      state_reason: i.state_reason,
      ...(i.pull_request
        ? {
            pull_request: {
              url: `${base}/pulls/${i.number}`,
              html_url: i.html_url,
              diff_url: `${i.html_url}.diff`,
              patch_url: `${i.html_url}.patch`,
              merged_at: null,
            },
          }
        : {}),
    };
  }

  /**
   * Answer an issue request for `repo` (`rest` is the path after /repos/{owner}/{name}), or
   * return false when the request is not one of these endpoints.
   */
  handle(input: {
    method: string;
    rest: string;
    query: URLSearchParams;
    body: Record<string, unknown>;
    repo: IssueRepo;
    apiUrl: string;
    send: (status: number, body?: unknown, headers?: Record<string, string>) => void;
  }): boolean {
    const { method, rest, query, body: b, repo, apiUrl, send } = input;
    const invalid = (message: string, errors?: unknown[]): true => {
      send(422, { message, ...(errors ? { errors } : {}), documentation_url: DOCS, status: "422" });
      return true;
    };
    const notFound = (): true => {
      send(404, { message: "Not Found", documentation_url: DOCS, status: "404" });
      return true;
    };
    const items = this.items(repo);

    if (method === "POST" && rest === "/issues") {
      if (typeof b.title !== "string" || b.title.trim() === "")
        return invalid("Validation Failed", [{ resource: "Issue", field: "title", code: "missing_field" }]);
      if (b.title.length > TITLE_MAX)
        return invalid("Validation Failed", [
          {
            resource: "Issue",
            field: "title",
            code: "custom",
            message: "title is too long (maximum is 256 characters)",
          },
        ]);
      const body = typeof b.body === "string" ? b.body : "";
      if (body.length > BODY_MAX)
        return invalid("Validation Failed", [
          {
            resource: "Issue",
            field: "body",
            code: "custom",
            message: "body is too long (maximum is 65536 characters)",
          },
        ]);
      const issue = this.add(repo, { title: b.title, body });
      send(201, this.json(apiUrl, repo, issue));
      return true;
    }
    if (method === "GET" && rest === "/issues") {
      const state = query.get("state") ?? "open";
      if (!["open", "closed", "all"].includes(state))
        return invalid("Validation Failed", [{ resource: "Issue", field: "state", code: "invalid" }]);
      const since = query.get("since");
      const sinceMs = since === null ? undefined : Date.parse(since);
      if (sinceMs !== undefined && !Number.isFinite(sinceMs))
        return invalid("Validation Failed", [{ resource: "Issue", field: "since", code: "invalid" }]);
      const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
      const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
      const direction = query.get("direction") ?? "desc";
      const sortKey = query.get("sort") === "updated" ? "updated_at" : "created_at";
      const matching = items
        .filter((i) => state === "all" || i.state === state)
        .filter((i) => sinceMs === undefined || Date.parse(i.updated_at) >= sinceMs)
        .sort((x, y) => {
          const d = x[sortKey] < y[sortKey] ? -1 : x[sortKey] > y[sortKey] ? 1 : x.number - y.number;
          return direction === "asc" ? d : -d;
        });
      const slice = matching.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      const last = Math.max(1, Math.ceil(matching.length / perPage));
      if (page < last) {
        const link = (n: number) => {
          const q = new URLSearchParams(query);
          q.set("page", String(n));
          return `<${apiUrl}/repos/${repo.owner}/${repo.name}/issues?${q}>`;
        };
        headers.link = `${link(page + 1)}; rel="next", ${link(last)}; rel="last"`;
      }
      send(
        200,
        slice.map((i) => this.json(apiUrl, repo, i)),
        headers,
      );
      return true;
    }
    const one = /^\/issues\/(\d+)$/.exec(rest);
    if (!one) return false;
    const issue = items.find((i) => i.number === Number(one[1]));
    if (method === "GET") {
      if (!issue) return notFound();
      send(200, this.json(apiUrl, repo, issue));
      return true;
    }
    if (method === "PATCH") {
      if (!issue) return notFound();
      if (b.state !== undefined && b.state !== "open" && b.state !== "closed")
        return invalid("Validation Failed", [{ resource: "Issue", field: "state", code: "invalid" }]);
      if (
        b.state_reason !== undefined &&
        b.state_reason !== null &&
        !(STATE_REASONS as readonly unknown[]).includes(b.state_reason)
      )
        return invalid("Validation Failed", [{ resource: "Issue", field: "state_reason", code: "invalid" }]);
      const at = githubTime(this.now());
      if (typeof b.title === "string") issue.title = b.title;
      if (typeof b.body === "string") issue.body = b.body;
      if (b.state === "closed" && issue.state !== "closed") {
        issue.state = "closed";
        issue.closed_at = at;
        issue.state_reason = typeof b.state_reason === "string" ? b.state_reason : "completed";
      } else if (b.state === "open" && issue.state !== "open") {
        // GitHub records a reopen as state_reason "reopened" and clears closed_at.
        issue.state = "open";
        issue.closed_at = null;
        issue.state_reason = "reopened";
      } else if (b.state === "closed" && typeof b.state_reason === "string") {
        issue.state_reason = b.state_reason;
      }
      issue.updated_at = at;
      send(200, this.json(apiUrl, repo, issue));
      return true;
    }
    return false;
  }
}
