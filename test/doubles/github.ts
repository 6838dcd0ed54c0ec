/**
 * A loopback double of the GitHub REST API: the endpoints the draft pipeline
 * uses, with GitHub's real JSON shapes, status codes and real git object ids
 * (blob/tree/commit SHA-1s computed exactly as git does). Point Octokit at it
 * with `baseUrl: double.url`.
 *
 * State is inspectable: `repoFiles(full, branch)` gives a branch's files,
 * `pulls(full)`, `branches(full)`, `requests` (every call, without headers).
 * Faults: `failNext({method, path}, status, body)` answers the next matching
 * call with an error; `truncateTreesAfter` makes recursive tree listings
 * truncated (as GitHub does past 100,000 entries / 7 MB).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type DoubleIssue, IssueTracker } from "./github-issues.js";

const DOCS = "https://docs.github.com/rest";

type GitObject =
  | { type: "blob"; content: Buffer }
  | { type: "tree"; entries: TreeEntry[] }
  | { type: "commit"; tree: string; parents: string[]; message: string; date: string };

interface TreeEntry {
  name: string;
  mode: string;
  type: "blob" | "tree";
  sha: string;
}

export interface DoubleRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface DoublePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  html_url: string;
  state: "open" | "closed";
}

/** CI on a commit as the double reports it: check runs (Checks API) and commit statuses. */
export interface DoubleCi {
  checkRuns: { name: string; status: "queued" | "in_progress" | "completed"; conclusion: string | null }[];
  statuses: { context: string; state: "pending" | "success" | "failure" | "error" }[];
}

interface RepoState {
  owner: string;
  name: string;
  id: number;
  defaultBranch: string;
  refs: Map<string, string>;
  pulls: DoublePull[];
}

export interface GitHubDoubleOptions {
  /** Tokens the double accepts (default ["ghp_double_token"]). */
  tokens?: string[];
}

export interface FailRule {
  method?: string;
  /** Substring of the request path (e.g. "/pulls", "/git/refs"). */
  path: string;
}

export interface GitHubDouble {
  /** Base URL for Octokit (`baseUrl`) and GITHUB_API_URL. */
  url: string;
  /** The first accepted token. */
  token: string;
  requests: DoubleRequest[];
  /** When set, recursive tree listings stop after this many entries and say `truncated: true`. */
  truncateTreesAfter: number | undefined;
  addRepo(fullName: string, files: Record<string, string>, options?: { defaultBranch?: string }): void;
  /** Files at the tip of a branch, or undefined if the branch does not exist. */
  repoFiles(fullName: string, branch: string): Record<string, string> | undefined;
  branches(fullName: string): string[];
  pulls(fullName: string): DoublePull[];
  /** The commit at a branch tip: message and parent count. */
  commitAt(fullName: string, branch: string): { sha: string; message: string; parents: string[] } | undefined;
  /** Issues per repository (github-issues.ts): list, add directly, move the double's clock. */
  issues: IssueTracker;
  /** Put an issue in a repository directly (another author, or a run that died before storing it). */
  addIssue(fullName: string, input: { title: string; body: string; user?: string }): DoubleIssue;
  /** Set what CI reports for a commit (by sha): nothing reported until set. */
  setCi(sha: string, ci: DoubleCi): void;
  failNext(rule: FailRule, status: number, body?: unknown): void;
  /** Hold the next matching request for `ms` before answering (to test cancellation mid-flight). */
  slowNext(rule: FailRule, ms: number): void;
  close(): Promise<void>;
}

function gitSha(type: string, body: Buffer): string {
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]))
    .digest("hex");
}

/** git sorts tree entries by name, comparing directories as if they ended in "/". */
function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  const key = (e: TreeEntry) => (e.type === "tree" ? `${e.name}/` : e.name);
  return [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const tokens = options.tokens ?? ["ghp_double_token"];
  const objects = new Map<string, GitObject>();
  const repos = new Map<string, RepoState>();
  const requests: DoubleRequest[] = [];
  const faults: { rule: FailRule; status: number; body: unknown }[] = [];
  const ci = new Map<string, DoubleCi>();
  const delays: { rule: FailRule; ms: number }[] = [];
  const matches = (rule: FailRule, method: string, path: string) =>
    (!rule.method || rule.method === method) && path.includes(rule.path);
  let nextId = 1000;
  let url = "";

  const put = (obj: GitObject): string => {
    let raw: Buffer;
    if (obj.type === "blob") raw = obj.content;
    else if (obj.type === "tree") {
      raw = Buffer.concat(
        sortEntries(obj.entries).map((e) =>
          Buffer.concat([
            Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.name}\0`),
            Buffer.from(e.sha, "hex"),
          ]),
        ),
      );
    } else {
      const sig = `PatchworkMCP Double <double@example.com> ${Math.floor(Date.parse(obj.date) / 1000)} +0000`;
      raw = Buffer.from(
        `tree ${obj.tree}\n${obj.parents.map((p) => `parent ${p}\n`).join("")}author ${sig}\ncommitter ${sig}\n\n${obj.message}`,
      );
    }
    const sha = gitSha(obj.type, raw);
    objects.set(sha, obj);
    return sha;
  };

  /** Flat path → {mode, sha} map of a tree, recursively. */
  const flatten = (treeSha: string, prefix = "", out = new Map<string, { mode: string; sha: string }>()) => {
    const tree = objects.get(treeSha);
    if (tree?.type !== "tree") return out;
    for (const e of tree.entries) {
      if (e.type === "tree") flatten(e.sha, `${prefix}${e.name}/`, out);
      else out.set(`${prefix}${e.name}`, { mode: e.mode, sha: e.sha });
    }
    return out;
  };

  /** Build nested tree objects from a flat map; returns the root tree sha. */
  const buildTree = (flat: Map<string, { mode: string; sha: string }>): string => {
    const build = (prefix: string): string => {
      const entries: TreeEntry[] = [];
      const dirs = new Set<string>();
      for (const [path, v] of flat) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash === -1) entries.push({ name: rest, mode: v.mode, type: "blob", sha: v.sha });
        else dirs.add(rest.slice(0, slash));
      }
      for (const dir of dirs) entries.push({ name: dir, mode: "040000", type: "tree", sha: build(`${prefix}${dir}/`) });
      return put({ type: "tree", entries: sortEntries(entries) });
    };
    return build("");
  };

  const blobText = (sha: string): string => {
    const b = objects.get(sha);
    return b?.type === "blob" ? b.content.toString("utf8") : "";
  };

  const commitOf = (sha: string) => {
    const c = objects.get(sha);
    return c?.type === "commit" ? c : undefined;
  };

  const repoJson = (r: RepoState) => ({
    id: r.id,
    node_id: `R_${r.id}`,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    private: false,
    owner: { login: r.owner, id: r.id + 1, type: "Organization" },
    html_url: `https://github.com/${r.owner}/${r.name}`,
    url: `${url}/repos/${r.owner}/${r.name}`,
    default_branch: r.defaultBranch,
    visibility: "public",
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
  });

  const commitJson = (r: RepoState, sha: string) => {
    const c = commitOf(sha)!;
    const base = `${url}/repos/${r.owner}/${r.name}/git`;
    const person = { name: "PatchworkMCP Double", email: "double@example.com", date: c.date };
    return {
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      url: `${base}/commits/${sha}`,
      html_url: `https://github.com/${r.owner}/${r.name}/commit/${sha}`,
      author: person,
      committer: person,
      message: c.message,
      tree: { sha: c.tree, url: `${base}/trees/${c.tree}` },
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${base}/commits/${p}`,
        html_url: `https://github.com/${r.owner}/${r.name}/commit/${p}`,
      })),
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    };
  };

  const refJson = (r: RepoState, name: string, sha: string) => ({
    ref: `refs/heads/${name}`,
    node_id: `REF_${name}`,
    url: `${url}/repos/${r.owner}/${r.name}/git/refs/heads/${name}`,
    object: { sha, type: "commit", url: `${url}/repos/${r.owner}/${r.name}/git/commits/${sha}` },
  });

  const commitFiles = (sha: string): Record<string, string> => {
    const c = commitOf(sha);
    if (!c) return {};
    return Object.fromEntries([...flatten(c.tree)].map(([p, v]) => [p, blobText(v.sha)]));
  };

  const issues = new IssueTracker();
  const double: GitHubDouble = {
    url: "",
    token: tokens[0]!,
    requests,
    issues,
    addIssue(fullName, input) {
      const r = repos.get(fullName.toLowerCase());
      if (!r) throw new Error(`the double has no repository ${fullName}`);
      return issues.add(r, input);
    },
    truncateTreesAfter: undefined,
    addRepo(fullName, files, opts = {}) {
      const [owner, name] = fullName.split("/") as [string, string];
      const flat = new Map<string, { mode: string; sha: string }>();
      for (const [path, content] of Object.entries(files)) {
        flat.set(path, { mode: "100644", sha: put({ type: "blob", content: Buffer.from(content, "utf8") }) });
      }
      const tree = buildTree(flat);
      const commit = put({
        type: "commit",
        tree,
        parents: [],
        message: "Initial commit",
        date: new Date(0).toISOString(),
      });
      const defaultBranch = opts.defaultBranch ?? "main";
      repos.set(fullName.toLowerCase(), {
        owner,
        name,
        id: nextId++,
        defaultBranch,
        refs: new Map([[defaultBranch, commit]]),
        pulls: [],
      });
    },
    repoFiles(fullName, branch) {
      const sha = repos.get(fullName.toLowerCase())?.refs.get(branch);
      return sha ? commitFiles(sha) : undefined;
    },
    branches(fullName) {
      return [...(repos.get(fullName.toLowerCase())?.refs.keys() ?? [])];
    },
    pulls(fullName) {
      return repos.get(fullName.toLowerCase())?.pulls ?? [];
    },
    commitAt(fullName, branch) {
      const sha = repos.get(fullName.toLowerCase())?.refs.get(branch);
      const c = sha ? commitOf(sha) : undefined;
      return sha && c ? { sha, message: c.message, parents: c.parents } : undefined;
    },
    setCi(sha, value) {
      ci.set(sha, value);
    },
    failNext(rule, status, body) {
      faults.push({
        rule,
        status,
        body: body ?? { message: "Server Error", documentation_url: DOCS, status: String(status) },
      });
    },
    slowNext(rule, ms) {
      delays.push({ rule, ms });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader("x-github-api-version-selected", "2022-11-28");
    res.setHeader("x-ratelimit-limit", "5000");
    res.setHeader("x-ratelimit-remaining", "4999");
    if (body === undefined) return res.end();
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse) =>
    send(res, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
  const invalid = (res: ServerResponse, message: string, errors?: unknown[]) =>
    send(res, 422, { message, ...(errors ? { errors } : {}), documentation_url: DOCS, status: "422" });

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const method = req.method ?? "GET";
    const parsedUrl = new URL(req.url ?? "/", "http://double");
    const path = parsedUrl.pathname;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return send(res, 400, { message: "Problems parsing JSON", documentation_url: DOCS, status: "400" });
    }
    requests.push({ method, path, body });

    const auth = req.headers.authorization ?? "";
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(auth)?.[1];
    if (!token) return send(res, 401, { message: "Requires authentication", documentation_url: DOCS, status: "401" });
    if (!tokens.includes(token))
      return send(res, 401, { message: "Bad credentials", documentation_url: DOCS, status: "401" });

    const faultIndex = faults.findIndex((f) => matches(f.rule, method, path));
    if (faultIndex >= 0) {
      const [fault] = faults.splice(faultIndex, 1);
      return send(res, fault!.status, fault!.body);
    }

    if (method === "GET" && path === "/user")
      return send(res, 200, { login: issues.login, id: 1, node_id: "U_1", type: "User", site_admin: false });

    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return notFound(res);
    const repo = repos.get(`${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`.toLowerCase());
    if (!repo) return notFound(res);
    const rest = m[3] ?? "";
    const b = (body ?? {}) as Record<string, unknown>;

    if (method === "GET" && rest === "") return send(res, 200, repoJson(repo));
    const issueCall = {
      method,
      rest,
      query: parsedUrl.searchParams,
      body: b,
      repo,
      apiUrl: url,
      send: (status: number, out?: unknown, headers?: Record<string, string>) => send(res, status, out, headers),
    };
    if (issues.handle(issueCall)) return;

    let g: RegExpExecArray | null;
    if (method === "GET" && (g = /^\/git\/ref\/(.+)$/.exec(rest))) {
      const ref = decodeURIComponent(g[1]!);
      const name = ref.replace(/^heads\//, "");
      const sha = ref.startsWith("heads/") ? repo.refs.get(name) : undefined;
      return sha ? send(res, 200, refJson(repo, name, sha)) : notFound(res);
    }
    if (method === "GET" && (g = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest))) {
      return commitOf(g[1]!) ? send(res, 200, commitJson(repo, g[1]!)) : notFound(res);
    }
    if (method === "GET" && (g = /^\/git\/trees\/([^/]+)$/.exec(rest))) {
      let sha = decodeURIComponent(g[1]!);
      const branchTip = repo.refs.get(sha);
      if (branchTip) sha = branchTip;
      const c = commitOf(sha);
      if (c) sha = c.tree;
      const tree = objects.get(sha);
      if (tree?.type !== "tree") return notFound(res);
      const recursive = parsedUrl.searchParams.has("recursive");
      const entries: Record<string, unknown>[] = [];
      const walk = (t: TreeEntry[], prefix: string) => {
        for (const e of t) {
          const blob = objects.get(e.sha);
          entries.push({
            path: `${prefix}${e.name}`,
            mode: e.mode,
            type: e.type,
            sha: e.sha,
            ...(e.type === "blob" && blob?.type === "blob" ? { size: blob.content.length } : {}),
            url: `${url}/repos/${repo.owner}/${repo.name}/git/${e.type === "blob" ? "blobs" : "trees"}/${e.sha}`,
          });
          const sub = objects.get(e.sha);
          if (recursive && sub?.type === "tree") walk(sub.entries, `${prefix}${e.name}/`);
        }
      };
      walk(tree.entries, "");
      const cut = recursive && double.truncateTreesAfter !== undefined && entries.length > double.truncateTreesAfter;
      return send(res, 200, {
        sha,
        url: `${url}/repos/${repo.owner}/${repo.name}/git/trees/${sha}`,
        tree: cut ? entries.slice(0, double.truncateTreesAfter) : entries,
        truncated: cut,
      });
    }
    if (method === "GET" && (g = /^\/git\/blobs\/([0-9a-f]{40})$/.exec(rest))) {
      const blob = objects.get(g[1]!);
      if (blob?.type !== "blob") return notFound(res);
      // GitHub wraps base64 at 60 characters per line.
      const b64 = blob.content.toString("base64").replace(/(.{60})/g, "$1\n");
      return send(res, 200, {
        sha: g[1],
        node_id: `B_${g[1]!.slice(0, 8)}`,
        size: blob.content.length,
        url: `${url}/repos/${repo.owner}/${repo.name}/git/blobs/${g[1]}`,
        content: b64,
        encoding: "base64",
      });
    }
    if (method === "POST" && rest === "/git/blobs") {
      if (typeof b.content !== "string")
        return invalid(res, "Invalid request.\n\nFor 'properties/content', nil is not a string.");
      const content = b.encoding === "base64" ? Buffer.from(b.content, "base64") : Buffer.from(b.content, "utf8");
      const sha = put({ type: "blob", content });
      return send(res, 201, { url: `${url}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}`, sha });
    }
    if (method === "POST" && rest === "/git/trees") {
      const items = Array.isArray(b.tree) ? (b.tree as Record<string, unknown>[]) : undefined;
      if (!items) return invalid(res, "Invalid request.\n\nFor 'properties/tree', nil is not an array.");
      let flat = new Map<string, { mode: string; sha: string }>();
      if (typeof b.base_tree === "string") {
        if (objects.get(b.base_tree)?.type !== "tree")
          return invalid(res, "Invalid tree info", [{ resource: "Tree", code: "invalid" }]);
        flat = flatten(b.base_tree);
      }
      for (const item of items) {
        const p = item.path;
        if (typeof p !== "string" || p.startsWith("/") || p.split("/").some((s) => s === "" || s === "." || s === ".."))
          return invalid(res, "GitRPC::BadObjectState", [{ resource: "Tree", field: "path", code: "invalid" }]);
        if (item.sha === null) {
          flat.delete(p);
        } else if (typeof item.content === "string") {
          flat.set(p, {
            mode: String(item.mode ?? "100644"),
            sha: put({ type: "blob", content: Buffer.from(item.content, "utf8") }),
          });
        } else if (typeof item.sha === "string" && objects.get(item.sha)?.type === "blob") {
          flat.set(p, { mode: String(item.mode ?? "100644"), sha: item.sha });
        } else {
          return invalid(res, "Invalid tree info", [{ resource: "Tree", field: "sha", code: "invalid" }]);
        }
      }
      const sha = buildTree(flat);
      const tree = objects.get(sha) as { type: "tree"; entries: TreeEntry[] };
      return send(res, 201, {
        sha,
        url: `${url}/repos/${repo.owner}/${repo.name}/git/trees/${sha}`,
        tree: tree.entries.map((e) => ({ path: e.name, mode: e.mode, type: e.type, sha: e.sha })),
        truncated: false,
      });
    }
    if (method === "POST" && rest === "/git/commits") {
      const parents = Array.isArray(b.parents)
        ? (b.parents as unknown[]).filter((p): p is string => typeof p === "string")
        : [];
      if (typeof b.message !== "string" || typeof b.tree !== "string" || objects.get(b.tree)?.type !== "tree")
        return invalid(res, "Invalid request.", [{ resource: "Commit", field: "tree", code: "invalid" }]);
      if (parents.some((p) => !commitOf(p))) return invalid(res, "Parent SHA does not exist or is not a commit object");
      const sha = put({ type: "commit", tree: b.tree, parents, message: b.message, date: new Date().toISOString() });
      return send(res, 201, commitJson(repo, sha));
    }
    if (method === "POST" && rest === "/git/refs") {
      const ref = typeof b.ref === "string" ? b.ref : "";
      if (!/^refs\/heads\/[^\s~^:?*[\\]+$/.test(ref) || ref.includes(".."))
        return invalid(res, "Reference name is not valid");
      if (typeof b.sha !== "string" || !commitOf(b.sha)) return invalid(res, "Object does not exist");
      const name = ref.slice("refs/heads/".length);
      if (repo.refs.has(name)) return invalid(res, "Reference already exists");
      repo.refs.set(name, b.sha);
      return send(res, 201, refJson(repo, name, b.sha));
    }
    if (method === "DELETE" && (g = /^\/git\/refs\/(.+)$/.exec(rest))) {
      const name = decodeURIComponent(g[1]!).replace(/^heads\//, "");
      if (!repo.refs.has(name)) return invalid(res, "Reference does not exist");
      repo.refs.delete(name);
      return send(res, 204);
    }
    if (method === "POST" && rest === "/pulls") {
      const head = typeof b.head === "string" ? b.head : "";
      const base = typeof b.base === "string" ? b.base : "";
      if (!repo.refs.has(head) || !repo.refs.has(base))
        return invalid(res, "Validation Failed", [
          { resource: "PullRequest", field: repo.refs.has(head) ? "base" : "head", code: "invalid" },
        ]);
      if (typeof b.title !== "string" || !b.title)
        return invalid(res, "Validation Failed", [{ resource: "PullRequest", field: "title", code: "missing_field" }]);
      const number = issues.nextNumber(`${repo.owner}/${repo.name}`);
      const pull: DoublePull = {
        number,
        title: b.title,
        body: typeof b.body === "string" ? b.body : "",
        head,
        base,
        draft: b.draft === true,
        html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${number}`,
        state: "open",
      };
      repo.pulls.push(pull);
      issues.notePull(repo, number, pull.title, pull.body);
      const side = (ref: string) => ({
        label: `${repo.owner}:${ref}`,
        ref,
        sha: repo.refs.get(ref),
        user: { login: repo.owner },
        repo: repoJson(repo),
      });
      return send(res, 201, {
        url: `${url}/repos/${repo.owner}/${repo.name}/pulls/${number}`,
        id: 5000 + number,
        node_id: `PR_${number}`,
        html_url: pull.html_url,
        diff_url: `${pull.html_url}.diff`,
        number,
        state: "open",
        locked: false,
        title: pull.title,
        user: { login: "patchworkmcp-double", id: 1, type: "User" },
        body: pull.body,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
        closed_at: null,
        merged_at: null,
        draft: pull.draft,
        head: side(head),
        base: side(base),
        merged: false,
        mergeable: null,
        commits: 1,
      });
    }
    // Pull requests: read one, close or reopen it (the rollback), as GitHub answers them (shape trimmed).
    if ((g = /^\/pulls\/(\d+)$/.exec(rest)) && (method === "GET" || method === "PATCH")) {
      const pull = repo.pulls.find((p) => p.number === Number(g![1]));
      if (!pull) return notFound(res);
      if (method === "PATCH") {
        if (b.state !== undefined && b.state !== "open" && b.state !== "closed")
          return invalid(res, "Validation Failed", [{ resource: "PullRequest", field: "state", code: "invalid" }]);
        if (b.state) pull.state = b.state as "open" | "closed";
        if (typeof b.title === "string") pull.title = b.title;
      }
      return send(res, 200, {
        url: `${url}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}`,
        number: pull.number,
        html_url: pull.html_url,
        state: pull.state,
        title: pull.title,
        body: pull.body,
        draft: pull.draft,
        head: { ref: pull.head, sha: repo.refs.get(pull.head) ?? null },
        base: { ref: pull.base, sha: repo.refs.get(pull.base) ?? null },
        merged: false,
      });
    }
    // CI on a commit: the Checks API and the combined commit status.
    if (method === "GET" && (g = /^\/commits\/([^/]+)\/(check-runs|status)$/.exec(rest))) {
      const ref = decodeURIComponent(g[1]!);
      const sha = repo.refs.get(ref) ?? ref;
      if (!commitOf(sha))
        return send(res, 422, { message: `No commit found for SHA: ${ref}`, documentation_url: DOCS });
      const state = ci.get(sha) ?? { checkRuns: [], statuses: [] };
      if (g[2] === "check-runs")
        return send(res, 200, {
          total_count: state.checkRuns.length,
          check_runs: state.checkRuns.map((r, i) => ({ id: 7000 + i, head_sha: sha, ...r })),
        });
      const statuses = state.statuses.map((st, i) => ({ id: 8000 + i, ...st }));
      const combined = statuses.some((st) => st.state === "failure" || st.state === "error")
        ? "failure"
        : statuses.length > 0 && statuses.every((st) => st.state === "success")
          ? "success"
          : "pending";
      return send(res, 200, { state: combined, sha, total_count: statuses.length, statuses });
    }
    return notFound(res);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://double").pathname;
      const i = delays.findIndex((d) => matches(d.rule, req.method ?? "GET", path));
      const ms = i >= 0 ? delays.splice(i, 1)[0]!.ms : 0;
      const run = () => handle(req, res, Buffer.concat(chunks).toString("utf8"));
      if (ms > 0) setTimeout(run, ms);
      else run();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  double.url = url;
  return double;
}
