// PatchworkMCP feedback tool: a drop-in for Go MCP servers built on mark3labs/mcp-go.
//
// Copy this ONE file into your server's package (change the package clause to
// match) and register the tool in one line:
//
//	s := server.NewMCPServer("billing-server", "1.0.0", server.WithInstructions(FeedbackServerInstructions))
//	RegisterFeedbackTool(s, "billing-server")            // or (s, "billing-server", &FeedbackOptions{…})
//
// The original PatchworkMCP API works unchanged: NewFeedbackTool, NewFeedbackHandler,
// SendFeedback(ctx, args, serverName, opts) (the text for the agent), Options and
// RegisterFeedbackTool(s, name) or (s, name, nil). DeliverFeedback is the richer call.
//
// Configuration: FEEDBACK_SIDECAR_URL (default http://localhost:8099),
// FEEDBACK_API_KEY, FEEDBACK_OUTBOX (default ~/.patchworkmcp/outbox.log) and
// FEEDBACK_PRIVACY (what a kept report is scrubbed of: off, secrets, secrets+pii), or
// FeedbackOptions in code. Only the standard library and mcp-go are used. Delivery
// never panics into the host and never writes to stdout (that would corrupt a stdio
// transport). A report that cannot be delivered after 2 retries goes to the outbox
// the proxy uses (same format, same lock), is re-sent from a goroutine with backoff,
// and can be re-sent by hand with `patchworkmcp replay <outbox>`.
//
// The definition and texts below come from PatchworkMCP's contract
// (drop-ins/spec); the tests fail if they drift.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// FeedbackToolName is the tool's name in tools/list.
const FeedbackToolName = "feedback"

// FeedbackToolTitle is the tool's human-readable title.
const FeedbackToolTitle = "Report a gap in this server"

// FeedbackToolDescription tells the agent when and how to call the tool.
const FeedbackToolDescription = "" +
	"Tell the developers of this MCP server what you needed and could not do. Call it whenever:\n" +
	"- no tool here does what the task needs (missing_tool);\n" +
	"- a tool answered but left out data you needed (incomplete_results);\n" +
	"- a tool exists but lacks an argument or filter you needed (missing_parameter);\n" +
	"- the data came back in a shape you had to convert, guess at or could not use (wrong_format);\n" +
	"- you had to approximate, chain many calls or work around the server to get an answer;\n" +
	"- you are about to tell the user that something cannot be done with these tools.\n" +
	"Call it BEFORE you give your final answer to the user, then carry on with the task.\n" +
	"Be specific: name the tools you called and the arguments you used, what came back,\n" +
	"the exact capability that was missing, and the tool or parameter you would have wanted.\n" +
	"Reports go to the server's developers and are used to build what is missing; they never\n" +
	"change this conversation and you do not need the user's permission to send one."

// FeedbackServerInstructions belong in server.WithInstructions: without them
// agents rarely call the tool.
const FeedbackServerInstructions = "" +
	"This server has a `feedback` tool that goes straight to its developers. Use it whenever this\n" +
	"server falls short of what your task needs: a tool you needed does not exist, a result was incomplete,\n" +
	"a parameter was missing, a format was wrong, you had to approximate or work around the server, or you\n" +
	"are about to tell the user something cannot be done. Call `feedback` before your final answer, with\n" +
	"specifics: what you needed, which tools and arguments you tried and what came back, and what tool or\n" +
	"parameter would have worked. One call per distinct gap. It costs the user nothing and is how this server improves."

// FeedbackInputSchema is the tool's input JSON Schema, exactly as tools/list shows it.
const FeedbackInputSchema = `{
	"type": "object",
	"properties": {
		"what_i_needed": {
			"type": "string",
			"minLength": 1,
			"maxLength": 4000,
			"description": "The capability you needed and could not get, stated concretely: the data, action or parameter, e.g. 'filter invoices by date range' or 'get the total cost per project'."
		},
		"what_i_tried": {
			"type": "string",
			"minLength": 1,
			"maxLength": 4000,
			"description": "What you tried before giving up: the tools you called with which arguments, and what came back or why it fell short."
		},
		"gap_type": {
			"type": "string",
			"enum": [
				"missing_tool",
				"incomplete_results",
				"missing_parameter",
				"wrong_format",
				"other"
			],
			"description": "missing_tool: no tool does it. incomplete_results: a tool answered but left data out. missing_parameter: the tool exists but lacks an argument you needed. wrong_format: the data came back in a shape you could not use. other: anything else."
		},
		"server_name": {
			"type": "string",
			"maxLength": 200,
			"description": "Name of the MCP server this feedback is about."
		},
		"server_version": {
			"type": "string",
			"maxLength": 100,
			"description": "Version of the MCP server, if known."
		},
		"tool_name": {
			"type": "string",
			"maxLength": 200,
			"description": "The tool that fell short, if the gap is about one existing tool."
		},
		"suggestion": {
			"type": "string",
			"maxLength": 4000,
			"description": "Your proposed fix: a new tool with its signature, a new parameter, or a changed behaviour or format."
		},
		"user_goal": {
			"type": "string",
			"maxLength": 2000,
			"description": "The user's underlying task that surfaced the gap, in one or two sentences."
		},
		"resolution": {
			"type": "string",
			"enum": [
				"blocked",
				"worked_around",
				"partial"
			],
			"description": "blocked: you could not do the task at all. worked_around: you got there another way. partial: you could only do part of it."
		},
		"tools_available": {
			"maxItems": 500,
			"type": "array",
			"items": {
				"type": "string",
				"maxLength": 200
			},
			"description": "Names of the tools you could see on this server when you hit the gap."
		},
		"agent_model": {
			"type": "string",
			"maxLength": 200,
			"description": "Your model identifier, e.g. claude-sonnet-4-5."
		},
		"session_id": {
			"type": "string",
			"maxLength": 200,
			"description": "An identifier for this conversation, so reports from one session can be grouped."
		},
		"client_type": {
			"type": "string",
			"maxLength": 200,
			"description": "The client application you run in, e.g. claude-desktop, cursor, claude-code."
		}
	},
	"required": [
		"what_i_needed",
		"what_i_tried",
		"gap_type"
	]
}`

// The answers the agent gets.
// The answers the agent gets.
const (
	FeedbackReplyRecorded = "Thank you. Your feedback was recorded (report {id}) and the server's developers will see it. Carry on with the task."
	FeedbackReplyQueued   = "Thank you. The feedback service could not be reached, so your report was kept locally and will be delivered later. Carry on with the task."
	FeedbackReplyInvalid  = "Feedback was not recorded: {details}. Fix these fields and call the tool again."
)

// UnsentFeedbackMarker starts each outbox line (and the stderr line of a report even the outbox could not keep).
const UnsentFeedbackMarker = "PATCHWORKMCP_UNSENT_FEEDBACK"

const defaultSidecarURL = "http://localhost:8099"

var feedbackFields = []string{
	"what_i_needed", "what_i_tried", "gap_type", "server_name", "server_version", "tool_name",
	"suggestion", "user_goal", "resolution", "tools_available", "agent_model", "session_id", "client_type",
}

// FeedbackOptions configures delivery. Zero values mean: environment, then defaults.
type FeedbackOptions struct {
	SidecarURL string // default $FEEDBACK_SIDECAR_URL, then http://localhost:8099
	APIKey     string // default $FEEDBACK_API_KEY
	// ServerName and ServerVersion fill in every report from this server.
	ServerName     string
	ServerVersion  string
	ConnectTimeout time.Duration // default 3s
	Timeout        time.Duration // one attempt, connect to last byte; default 10s
	Retries        int           // default 2; negative means none
	Backoff        time.Duration // first backoff delay, doubled per retry, plus jitter; default 250ms
	MaxRetryAfter  time.Duration // longest Retry-After honoured; default 30s
	// OutboxPath is where undeliverable reports wait: default $FEEDBACK_OUTBOX, then
	// ~/.patchworkmcp/outbox.log (the proxy's).
	OutboxPath string
	// OutboxRetry is the first delay before the outbox is re-sent, doubled while the
	// sidecar stays away, up to 5 minutes; default 2s.
	OutboxRetry time.Duration
	// Privacy is what a kept report is scrubbed of (off, secrets, secrets+pii): default
	// $FEEDBACK_PRIVACY, then secrets+pii.
	Privacy string
}

// Options is the original PatchworkMCP drop-in's name for FeedbackOptions.
type Options = FeedbackOptions

func (o FeedbackOptions) withDefaults() FeedbackOptions {
	if o.SidecarURL == "" {
		o.SidecarURL = os.Getenv("FEEDBACK_SIDECAR_URL")
	}
	if o.SidecarURL == "" {
		o.SidecarURL = defaultSidecarURL
	}
	if o.APIKey == "" {
		o.APIKey = os.Getenv("FEEDBACK_API_KEY")
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 3 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 2
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
	if o.OutboxPath == "" {
		o.OutboxPath = os.Getenv("FEEDBACK_OUTBOX")
	}
	if o.OutboxPath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			o.OutboxPath = filepath.Join(home, ".patchworkmcp", "outbox.log")
		} else {
			o.OutboxPath = filepath.Join(os.TempDir(), "patchworkmcp-outbox.log")
		}
	}
	if o.OutboxRetry <= 0 {
		o.OutboxRetry = 2 * time.Second
	}
	if o.Privacy == "" {
		o.Privacy = os.Getenv("FEEDBACK_PRIVACY")
	}
	if !slices.Contains(PrivacyModes, o.Privacy) {
		o.Privacy = DefaultPrivacyMode
	}
	return o
}

// KnownGap is what the sidecar answers as `gap` when the report joined a gap the developers acted on.
type KnownGap struct {
	ID        int64   `json:"id"`
	Status    string  `json:"status"`
	Reports   int64   `json:"reports"`
	AgentNote *string `json:"agent_note"`
}

// FeedbackResult is what happened to one report; Reply is the text for the agent.
type FeedbackResult struct {
	Delivered bool
	Unsent    bool // kept for later delivery: in the outbox (Outbox), or on stderr if even that failed
	ReportID  int64
	Status    int
	Reply     string
	Error     string
	// Invalid: the sidecar refused the report's content (400/422). It would fail again, so it
	// is not kept for replay; the tool answers isError with the fields to fix, as the proxy does.
	Invalid bool
	// Gap is the known gap the report joined, when the sidecar said so.
	Gap *KnownGap
	// Outbox is the file the report was kept in.
	Outbox string
}

// ---- the known-gap echo (wording from src/feedback/echo.ts, vectors in drop-ins/spec/echo.json) ----

var knownGapAdvice = map[string]string{
	"planned": "the developers plan to build it, so work around it for now",
	"fixed":   "the developers marked it fixed, so a newer version of this server should do it; work around it for now",
	"wontfix": "the developers decided not to build it, so find another way",
}

// KnownGapSentence is the one sentence that tells the agent the gap is known and what to do now.
func KnownGapSentence(gap KnownGap) string {
	count := fmt.Sprintf("%d reports", gap.Reports)
	if gap.Reports == 1 {
		count = "1 report"
	}
	advice := ""
	if a, ok := knownGapAdvice[gap.Status]; ok {
		advice = ": " + a
	}
	out := fmt.Sprintf("This is a known gap (%s, %s)%s.", gap.Status, count, advice)
	if gap.AgentNote != nil {
		if note := strings.TrimSpace(*gap.AgentNote); note != "" {
			out += " Note from the developers: " + note
		}
	}
	return out
}

func recordedReply(id int64, gap *KnownGap) string {
	reply := strings.Replace(FeedbackReplyRecorded, "{id}", strconv.FormatInt(id, 10), 1)
	if gap != nil {
		reply += " " + KnownGapSentence(*gap)
	}
	return reply
}

// ---- the tool and its registration ------------------------------------------------------

// FeedbackTool is the tool definition for AddTool (or for a hand-written tools/list).
func FeedbackTool() mcp.Tool {
	tool := mcp.NewToolWithRawSchema(FeedbackToolName, FeedbackToolDescription, json.RawMessage(FeedbackInputSchema))
	no := false
	tool.Title = FeedbackToolTitle
	tool.Annotations = mcp.ToolAnnotation{
		Title:           FeedbackToolTitle,
		ReadOnlyHint:    &no,
		DestructiveHint: &no,
		IdempotentHint:  &no,
		OpenWorldHint:   &no,
	}
	return tool
}

// NewFeedbackTool is the original drop-in's name for FeedbackTool.
func NewFeedbackTool() mcp.Tool { return FeedbackTool() }

// RegisterFeedbackTool adds the feedback tool to an mcp-go server:
// RegisterFeedbackTool(s, "my-server"), or with options (nil allowed).
func RegisterFeedbackTool(s *server.MCPServer, serverName string, opts ...*FeedbackOptions) {
	s.AddTool(FeedbackTool(), NewFeedbackHandler(serverName, firstOptions(opts)))
	resumeOutbox(firstOptions(opts).withDefaults())
}

func firstOptions(opts []*FeedbackOptions) *FeedbackOptions {
	for _, o := range opts {
		if o != nil {
			return o
		}
	}
	return &FeedbackOptions{}
}

// NewFeedbackHandler answers tools/call for the feedback tool, stamping serverName (opts may be nil).
func NewFeedbackHandler(serverName string, opts *Options) server.ToolHandlerFunc {
	o := *firstOptions([]*FeedbackOptions{opts})
	if serverName != "" {
		o.ServerName = serverName
	}
	return FeedbackToolHandler(o)
}

// FeedbackToolHandler answers tools/call for the feedback tool. It never returns an error.
// Every report gets the server's version, the tools it registered, the client's name and
// the session, as the proxy fills them in.
func FeedbackToolHandler(opts FeedbackOptions) server.ToolHandlerFunc {
	return func(ctx context.Context, request mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		payload := WithFeedbackContext(BuildFeedbackPayload(request.GetArguments(), opts), contextOf(ctx, request), opts)
		result := deliverPayload(ctx, payload, opts.withDefaults())
		if result.Invalid {
			return mcp.NewToolResultError(result.Reply), nil
		}
		return mcp.NewToolResultText(result.Reply), nil
	}
}

// FeedbackContext is what the server knows better than the agent.
type FeedbackContext struct {
	ToolsAvailable []string // the tools registered; used when the agent sent none
	ServerVersion  string   // from the server's info; wins over the agent's guess
	ClientType     string   // the client's info, "name/version"; used when the agent sent none
	SessionID      string   // the transport's session, else this process's; used when the agent sent none
}

// processSessionID: on stdio one process serves one client, so it groups that conversation's reports.
var processSessionID = "process-" + newIdempotencyKey()

func contextOf(ctx context.Context, request mcp.CallToolRequest) (c FeedbackContext) {
	defer func() { _ = recover() }() // context is a courtesy: never fail a report over it
	c.SessionID = processSessionID
	if s := server.ServerFromContext(ctx); s != nil {
		for name := range s.ListTools() {
			c.ToolsAvailable = append(c.ToolsAvailable, name)
		}
		sort.Strings(c.ToolsAvailable)
		// mcp-go keeps the server's version unexported; read it, and go without if a release renames it.
		if v := reflect.ValueOf(s).Elem().FieldByName("version"); v.IsValid() && v.Kind() == reflect.String {
			c.ServerVersion = v.String()
		}
	}
	var info *mcp.Implementation
	if request.Params.Meta != nil {
		info = request.Params.Meta.ClientInfo() // 2026-07-28: the request's own envelope
	}
	session := server.ClientSessionFromContext(ctx)
	if info == nil {
		if withInfo, ok := session.(server.SessionWithClientInfo); ok {
			got := withInfo.GetClientInfo()
			info = &got
		}
	}
	if info != nil && info.Name != "" {
		c.ClientType = info.Name
		if info.Version != "" {
			c.ClientType += "/" + info.Version
		}
	}
	if session != nil && session.SessionID() != "" {
		c.SessionID = session.SessionID()
	}
	return c
}

func blank(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(t) == ""
	case []string:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// WithFeedbackContext fills the payload's gaps from the context; a configured ServerVersion still wins.
func WithFeedbackContext(payload map[string]any, c FeedbackContext, opts FeedbackOptions) map[string]any {
	out := map[string]any{}
	for k, v := range payload {
		out[k] = v
	}
	if blank(out["tools_available"]) && len(c.ToolsAvailable) > 0 {
		tools := []string{}
		for i, name := range c.ToolsAvailable {
			if i == 500 {
				break
			}
			tools = append(tools, clip(name, 200))
		}
		out["tools_available"] = tools
	}
	if opts.ServerVersion == "" && c.ServerVersion != "" {
		out["server_version"] = clip(c.ServerVersion, 100)
	}
	if blank(out["client_type"]) && c.ClientType != "" {
		out["client_type"] = clip(c.ClientType, 200)
	}
	if blank(out["session_id"]) && c.SessionID != "" {
		out["session_id"] = clip(c.SessionID, 200)
	}
	return out
}

// BuildFeedbackPayload keeps the known fields of the tool arguments. tools_available
// is always a JSON array (never null); the configured server name/version win.
func BuildFeedbackPayload(arguments map[string]any, opts FeedbackOptions) map[string]any {
	payload := map[string]any{}
	for _, field := range feedbackFields {
		if value, ok := arguments[field]; ok && value != nil {
			payload[field] = value
		}
	}
	payload["tools_available"] = toolList(arguments["tools_available"])
	if opts.ServerName != "" {
		payload["server_name"] = opts.ServerName
	}
	if opts.ServerVersion != "" {
		payload["server_version"] = opts.ServerVersion
	}
	return payload
}

// toolList reads a list, a JSON-array string or a comma list; anything else passes through
// for the sidecar to reject with a clear message.
func toolList(value any) any {
	switch v := value.(type) {
	case nil:
		return []string{}
	case []string:
		return v
	case string:
		trimmed := strings.TrimSpace(v)
		var list []string
		if strings.HasPrefix(trimmed, "[") && json.Unmarshal([]byte(trimmed), &list) == nil {
			return list
		}
		out := []string{}
		for _, part := range strings.Split(trimmed, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		return out
	default:
		return v
	}
}

func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func retryAfter(header string, limit time.Duration) (time.Duration, bool) {
	if header == "" {
		return 0, false
	}
	var wait time.Duration
	if seconds, err := strconv.ParseFloat(header, 64); err == nil {
		wait = time.Duration(seconds * float64(time.Second))
	} else if at, err := http.ParseTime(header); err == nil {
		wait = time.Until(at)
	} else {
		return 0, false
	}
	return min(max(wait, 0), limit), true
}

func issuesText(body []byte, status int) string {
	var parsed struct {
		Error struct {
			Message string `json:"message"`
			Details []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &parsed) == nil {
		if len(parsed.Error.Details) > 0 {
			parts := make([]string, 0, len(parsed.Error.Details))
			for _, d := range parsed.Error.Details {
				parts = append(parts, d.Field+": "+d.Message)
			}
			return strings.Join(parts, "; ")
		}
		if parsed.Error.Message != "" {
			return parsed.Error.Message
		}
	}
	return fmt.Sprintf("the feedback service answered %d", status)
}

// ---- delivery -----------------------------------------------------------------------------

// SendFeedback is the original API: deliver one report and return the text for the agent
// (opts may be nil). It never panics into the host and never writes to stdout.
func SendFeedback(ctx context.Context, args map[string]any, serverName string, opts *Options) string {
	o := *firstOptions([]*FeedbackOptions{opts})
	if serverName != "" {
		o.ServerName = serverName
	}
	return DeliverFeedback(ctx, args, o).Reply
}

// DeliverFeedback delivers one report to the sidecar, or keeps it in the outbox. It never
// panics into the host and never writes to stdout.
func DeliverFeedback(ctx context.Context, arguments map[string]any, opts FeedbackOptions) FeedbackResult {
	return deliverPayload(ctx, BuildFeedbackPayload(arguments, opts), opts.withDefaults())
}

type attemptsOutcome int

const (
	outcomeDelivered attemptsOutcome = iota
	outcomeInvalid
	outcomeFailed
)

// postReport sends one report with its key: retries on network errors, 429 and 5xx.
func postReport(ctx context.Context, body []byte, key string, opts FeedbackOptions, retries int) (outcome attemptsOutcome, result FeedbackResult) {
	client := &http.Client{
		Timeout: opts.Timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: opts.ConnectTimeout}).DialContext,
			TLSHandshakeTimeout:   opts.ConnectTimeout,
			ResponseHeaderTimeout: opts.Timeout,
		},
	}
	defer client.CloseIdleConnections()
	url := strings.TrimRight(opts.SidecarURL, "/") + "/api/feedback"
	lastError, status := "not attempted", 0
	for attempt := 0; attempt <= retries; attempt++ {
		backoff := opts.Backoff << attempt
		wait := backoff + time.Duration(mathrand.Int64N(int64(backoff)+1))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return outcomeFailed, FeedbackResult{Error: err.Error()}
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		if opts.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+opts.APIKey)
		}
		res, err := client.Do(req)
		if err != nil {
			lastError = "could not reach the feedback service: " + err.Error()
		} else {
			answer, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
			status = res.StatusCode
			switch {
			case status >= 200 && status < 300:
				var ok struct {
					ID  int64           `json:"id"`
					Gap json.RawMessage `json:"gap"`
				}
				_ = json.Unmarshal(answer, &ok)
				var gap *KnownGap
				if len(ok.Gap) > 0 {
					var g KnownGap
					var shape map[string]any
					if json.Unmarshal(ok.Gap, &g) == nil && json.Unmarshal(ok.Gap, &shape) == nil &&
						shape["id"] != nil && shape["reports"] != nil && g.Status != "" {
						gap = &g
					}
				}
				return outcomeDelivered, FeedbackResult{Delivered: true, ReportID: ok.ID, Status: status, Gap: gap,
					Reply: recordedReply(ok.ID, gap)}
			case status == 400 || status == 422:
				details := issuesText(answer, status)
				return outcomeInvalid, FeedbackResult{Status: status, Error: details, Invalid: true,
					Reply: strings.Replace(FeedbackReplyInvalid, "{details}", details, 1)}
			case status == 429 || status >= 500:
				lastError = fmt.Sprintf("the feedback service answered %d", status)
				if honoured, ok := retryAfter(res.Header.Get("Retry-After"), opts.MaxRetryAfter); ok {
					wait = honoured
				}
			default:
				// 401/403/404/413…: a setup problem, not the report's fault: keep it for later.
				return outcomeFailed, FeedbackResult{Status: status, Error: issuesText(answer, status)}
			}
		}
		if attempt < retries {
			select {
			case <-ctx.Done():
				return outcomeFailed, FeedbackResult{Status: status, Error: ctx.Err().Error()}
			case <-time.After(wait):
			}
		}
	}
	return outcomeFailed, FeedbackResult{Status: status, Error: lastError}
}

func deliverPayload(ctx context.Context, payload map[string]any, opts FeedbackOptions) (result FeedbackResult) {
	key := newIdempotencyKey()
	defer func() {
		if r := recover(); r != nil {
			result = keep(payload, key, result.Status, fmt.Sprint(r), opts)
		}
	}()
	body, err := json.Marshal(payload)
	if err != nil {
		return keep(payload, key, 0, err.Error(), opts)
	}
	outcome, result := postReport(ctx, body, key, opts, opts.Retries)
	switch outcome {
	case outcomeDelivered:
		// A report delivered now is a sign the sidecar is back: send what waits, too.
		if f := existingFlusher(opts.OutboxPath); f != nil {
			f.soon()
		}
		return result
	case outcomeInvalid:
		return result
	}
	return keep(payload, key, result.Status, result.Error, opts)
}

func keep(payload map[string]any, key string, status int, reason string, opts FeedbackOptions) FeedbackResult {
	result := FeedbackResult{Unsent: true, Status: status, Error: reason, Reply: FeedbackReplyQueued}
	line := func(mode string) ([]byte, []string, error) {
		kept, replaced := ScrubForKeeping(payload, mode)
		kept["idempotency_key"] = key
		encoded, err := json.Marshal(kept)
		return encoded, replaced, err
	}
	encoded, replaced, err := line(opts.Privacy)
	if err == nil {
		err = outboxAppend(opts.OutboxPath, encoded)
	}
	if err == nil {
		result.Outbox = opts.OutboxPath
		scrubbed := ""
		if len(replaced) > 0 {
			scrubbed = fmt.Sprintf(" (privacy %s replaced %s)", opts.Privacy, strings.Join(replaced, "; "))
		}
		fmt.Fprintf(os.Stderr, "patchworkmcp: feedback not delivered (%s); kept in the outbox %s%s\n", reason, opts.OutboxPath, scrubbed)
		flusherFor(opts).later()
		return result
	}
	// Even the outbox failed: stderr is the last place `patchworkmcp replay` can read it from.
	lastResort, _, _ := line("secrets+pii")
	fmt.Fprintf(os.Stderr, "patchworkmcp: the outbox %s could not be written (%v)\n%s %s\n", opts.OutboxPath, err, UnsentFeedbackMarker, lastResort)
	return result
}

// ---- privacy: what is scrubbed before a report is kept (drop-ins/spec/privacy.json) ---------
//
// The sidecar scrubs every report with its full rule set (secretlint's preset among them) before
// it stores it; a report this process keeps (the outbox, the stderr line) never reaches it first,
// so it is scrubbed here with a portable subset of those rules, to the same placeholders.
// FEEDBACK_PRIVACY (or FeedbackOptions.Privacy): off, secrets, secrets+pii (the default; an
// unknown value counts as the default, never as off). The stderr line of last resort is always
// scrubbed with secrets+pii.

// PrivacyModes are the modes a kept report is scrubbed with; DefaultPrivacyMode is the default.
var PrivacyModes = []string{"off", "secrets", "secrets+pii"}

const DefaultPrivacyMode = "secrets+pii"

// ScrubbedFields are the free-text fields scrubbed (the sidecar's SCRUBBED_FIELDS).
var ScrubbedFields = []string{"what_i_needed", "what_i_tried", "suggestion", "user_goal"}

// scrubRule: group 1 of pattern is a prefix left in place, group 2 the value replaced (what
// follows it in the match stays too). notBefore / notAfter are characters that must not touch
// the match (the sidecar's lookarounds), dotDigitAfter refuses a match followed by ".<digit>",
// and accept checks the value.
type scrubRule struct {
	name          string
	pii           bool
	pattern       *regexp.Regexp
	notBefore     *regexp.Regexp
	notAfter      *regexp.Regexp
	dotDigitAfter bool
	accept        func(string) bool
}

func oneChar(class string) *regexp.Regexp { return regexp.MustCompile(`^` + class + `$`) }

var (
	wordChar       = oneChar(`[A-Za-z0-9_]`)
	letterChar     = oneChar(`[A-Za-z]`)
	secretKeyWords = `api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|private[_-]?key|access[_-]?token|auth[_-]?token|` +
		`refresh[_-]?token|id[_-]?token|session[_-]?token|token|secret|password|passwd|pwd|passphrase|credentials?`
	secretKey       = `["']?[A-Za-z0-9_.-]*(?:` + secretKeyWords + `)["']?\s*(?:=>|=|:)\s*`
	harmlessIPs     = map[string]bool{"127.0.0.1": true, "0.0.0.0": true, "::1": true, "::": true, "0:0:0:0:0:0:0:1": true, "0:0:0:0:0:0:0:0": true}
	piiPlaceholders = map[string]string{"email": "[email]", "phone": "[phone]", "card": "[card]", "ip": "[ip]"}
	basicDecoded    = regexp.MustCompile(`^[^\s:]{1,200}:\S`)
	ipv4Octet       = regexp.MustCompile(`^(?:0|[1-9][0-9]{0,2})$`)
)

func countDigits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

func luhn(digits string) bool {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// basicCredentials: base64 (padding optional) that decodes to `user:password`.
func basicCredentials(value string) bool {
	bare := strings.TrimRight(value, "=")
	if len(bare)%4 == 1 {
		return false
	}
	decoded, err := base64.RawStdEncoding.DecodeString(bare)
	return err == nil && utf8.Valid(decoded) && basicDecoded.Match(decoded)
}

func ipv4(value string) bool {
	for _, octet := range strings.Split(value, ".") {
		if n, err := strconv.Atoi(octet); err != nil || n > 255 || !ipv4Octet.MatchString(octet) {
			return false
		}
	}
	return !harmlessIPs[value]
}

func ipv6(value string) bool {
	addr, err := netip.ParseAddr(value)
	return strings.Count(value, ":") >= 2 && err == nil && addr.Is6() && !harmlessIPs[strings.ToLower(value)]
}

var scrubRules = []scrubRule{
	{name: "github", pattern: regexp.MustCompile(`()((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}|github_pat_[A-Za-z0-9_]{82})`),
		notBefore: letterChar, notAfter: wordChar},
	{name: "slack", pattern: regexp.MustCompile(`()((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:[0-9]-)?(?:[a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40})`),
		notBefore: wordChar, notAfter: wordChar},
	{name: "aws", pattern: regexp.MustCompile(`()((?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16})`),
		notBefore: wordChar, notAfter: wordChar, accept: func(v string) bool { return v != "AKIAIOSFODNN7EXAMPLE" }},
	{name: "npm", pattern: regexp.MustCompile(`()(npm_[A-Za-z0-9_]{36})`), notBefore: letterChar, notAfter: wordChar},
	{name: "openai", pattern: regexp.MustCompile(`()(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})` +
		`|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})`), notAfter: wordChar},
	{name: "anthropic", pattern: regexp.MustCompile(`()(sk-ant-api0[0-9]-[A-Za-z0-9_-]{90,128}AA)`), notAfter: oneChar(`[A-Za-z0-9_-]`)},
	// A truncated key (no END line) is replaced to the end of its field.
	{name: "private_key", pattern: regexp.MustCompile(`()(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----` +
		`(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*))`)},
	// "bearer authentication" is prose; a token has a digit or is long.
	{name: "bearer", pattern: regexp.MustCompile(`(?i)(bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)`), notBefore: wordChar,
		accept: func(v string) bool { return countDigits(v) > 0 || len(v) >= 20 }},
	{name: "basic_auth", pattern: regexp.MustCompile(`(?i)(basic\s+)([A-Za-z0-9+/]{6,}={0,2})`), notBefore: wordChar, accept: basicCredentials},
	{name: "authorization", pattern: regexp.MustCompile(`(?i)((?:proxy-)?authorization["']?\s*[:=]\s*["']?)([^\s"',;]{8,})`), notBefore: wordChar},
	{name: "jwt", pattern: regexp.MustCompile(`()(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})`), notBefore: wordChar},
	// key=value secrets: a quoted value is replaced inside its quotes.
	{name: "key_value", pattern: regexp.MustCompile(`(?i)(` + secretKey + `")((?:[^"\\\n]|\\.){1,500})"`), notBefore: oneChar(`[A-Za-z0-9\[]`)},
	{name: "key_value", pattern: regexp.MustCompile(`(?i)(` + secretKey + `')([^'\n]{1,500})'`), notBefore: oneChar(`[A-Za-z0-9\[]`)},
	{name: "key_value", pattern: regexp.MustCompile(`(?i)(` + secretKey + `)([^\s"',;&<>()\[\]{}]{1,500})`), notBefore: oneChar(`[A-Za-z0-9\[]`)},
	{name: "email", pii: true, pattern: regexp.MustCompile(`()([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})`),
		notAfter: oneChar(`[A-Za-z0-9-]`)},
	{name: "card", pii: true, pattern: regexp.MustCompile(`()([2-6](?:[ -]?[0-9]){12,18})`), notBefore: oneChar(`[0-9.-]`), notAfter: oneChar(`[0-9-]`),
		dotDigitAfter: true, accept: func(v string) bool {
			digits := strings.NewReplacer(" ", "", "-", "").Replace(v)
			return len(digits) >= 13 && len(digits) <= 19 && luhn(digits)
		}},
	{name: "phone", pii: true, pattern: regexp.MustCompile(`()(\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,6}|(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}` +
		`|0[0-9]{1,4}(?:[ .-][0-9]{2,4}){2,4})`), notBefore: oneChar(`[A-Za-z0-9_+.]`), notAfter: oneChar(`[A-Za-z0-9_-]`),
		dotDigitAfter: true, accept: func(v string) bool {
			n := countDigits(v)
			switch {
			case strings.HasPrefix(v, "+"):
				return n >= 8 && n <= 15
			case strings.HasPrefix(v, "0"):
				return n >= 9 && n <= 12
			}
			return n == 10
		}},
	{name: "ip", pii: true, pattern: regexp.MustCompile(`()((?:[0-9]{1,3}\.){3}[0-9]{1,3})`), notBefore: oneChar(`[A-Za-z0-9_.]`), notAfter: wordChar,
		dotDigitAfter: true, accept: ipv4},
	{name: "ip", pii: true, pattern: regexp.MustCompile(`()([0-9A-Fa-f:]{2,39})`), notBefore: oneChar(`[A-Za-z0-9_:.]`), notAfter: oneChar(`[A-Za-z0-9_:]`),
		dotDigitAfter: true, accept: ipv6},
}

// touches: the byte at `at` is one of chars (every class here is ASCII, so a byte is enough).
func touches(text string, at int, chars *regexp.Regexp) bool {
	return chars != nil && at >= 0 && at < len(text) && chars.MatchString(text[at:at+1])
}

// RuleCount is how many matches of one rule were replaced.
type RuleCount struct {
	Rule  string
	Count int
}

// ScrubText returns text scrubbed for mode, and how many matches of each rule it replaced (in order of first match).
func ScrubText(text, mode string) (string, []RuleCount) {
	if mode == "off" || text == "" {
		return text, nil
	}
	type hit struct {
		start, end int
		rule       *scrubRule
	}
	var hits []hit
	for i := range scrubRules {
		rule := &scrubRules[i]
		if rule.pii && mode != "secrets+pii" {
			continue
		}
		for _, m := range rule.pattern.FindAllStringSubmatchIndex(text, -1) {
			start, end, after := m[4], m[5], m[1]
			if start == end || touches(text, m[0]-1, rule.notBefore) || touches(text, after, rule.notAfter) {
				continue
			}
			if rule.dotDigitAfter && after+1 < len(text) && text[after] == '.' && text[after+1] >= '0' && text[after+1] <= '9' {
				continue
			}
			if rule.accept != nil && !rule.accept(text[start:end]) {
				continue
			}
			hits = append(hits, hit{start, end, rule})
		}
	}
	// Overlaps: the earliest match wins, the longest of those, the first rule of equals.
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].start != hits[b].start {
			return hits[a].start < hits[b].start
		}
		return hits[a].end > hits[b].end
	})
	var out strings.Builder
	var counts []RuleCount
	at := 0
	for _, h := range hits {
		if h.start < at {
			continue
		}
		out.WriteString(text[at:h.start])
		if h.rule.pii {
			out.WriteString(piiPlaceholders[h.rule.name])
		} else {
			out.WriteString("[secret:" + h.rule.name + "]")
		}
		at = h.end
		found := false
		for i := range counts {
			if counts[i].Rule == h.rule.name {
				counts[i].Count++
				found = true
			}
		}
		if !found {
			counts = append(counts, RuleCount{h.rule.name, 1})
		}
	}
	out.WriteString(text[at:])
	return out.String(), counts
}

// fieldLimits are the maxLength of each field in the tool's input schema.
var fieldLimits = sync.OnceValue(func() map[string]int {
	var schema struct {
		Properties map[string]struct {
			MaxLength int `json:"maxLength"`
		} `json:"properties"`
	}
	_ = json.Unmarshal([]byte(FeedbackInputSchema), &schema)
	limits := map[string]int{}
	for name, p := range schema.Properties {
		limits[name] = p.MaxLength
	}
	return limits
})

// ScrubForKeeping returns the report as it may be kept: its free-text fields scrubbed and cut
// back to their limits (a placeholder can be longer than what it replaced), and which rules
// fired where ("github ×1 in what_i_tried"), never what they replaced.
func ScrubForKeeping(payload map[string]any, mode string) (map[string]any, []string) {
	out := make(map[string]any, len(payload))
	for k, v := range payload {
		out[k] = v
	}
	var replaced []string
	for _, field := range ScrubbedFields {
		value, ok := out[field].(string)
		if !ok {
			continue
		}
		text, counts := ScrubText(value, mode)
		if len(counts) == 0 {
			continue
		}
		out[field] = clip(text, fieldLimits()[field])
		for _, c := range counts {
			replaced = append(replaced, fmt.Sprintf("%s ×%d in %s", c.Rule, c.Count, field))
		}
	}
	return out, replaced
}

// ---- the outbox (the proxy's format and lock: proxy/outbox.ts) -----------------------------

const (
	lockStale = 30 * time.Second
	lockWait  = 5 * time.Second
)

type outboxEntry struct {
	payload map[string]any
	key     string
}

// readOutbox returns the entries waiting that carry their own idempotency key.
func readOutbox(path string) ([]outboxEntry, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var entries []outboxEntry
	for _, line := range strings.Split(string(data), "\n") {
		at := strings.Index(line, UnsentFeedbackMarker)
		if at < 0 {
			continue
		}
		var value map[string]any
		if json.Unmarshal([]byte(strings.TrimSpace(line[at+len(UnsentFeedbackMarker):])), &value) != nil {
			continue
		}
		key, _ := value["idempotency_key"].(string)
		if key == "" {
			continue // left for a human and `patchworkmcp replay`
		}
		delete(value, "idempotency_key")
		entries = append(entries, outboxEntry{value, key})
	}
	return entries, nil
}

// withLock runs work under <outbox>.lock (exclusive create); a lock older than 30 s is taken over.
func withLock(path string, work func() error) error {
	lock := path + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	deadline := time.Now().Add(lockWait)
	var mine os.FileInfo
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			if mine, err = os.Stat(lock); err != nil {
				return err
			}
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		removeLockIf(lock, func(held os.FileInfo) bool { return time.Since(held.ModTime()) > lockStale })
		if time.Now().After(deadline) {
			return fmt.Errorf("the outbox %s stayed locked (remove %s if no process runs)", path, lock)
		}
		time.Sleep(20*time.Millisecond + time.Duration(mathrand.Int64N(int64(30*time.Millisecond))))
	}
	defer removeLockIf(lock, func(held os.FileInfo) bool { return os.SameFile(held, mine) })
	return work()
}

// removeLockIf renames the lock aside (only one process gets it), checks it is the one meant, else links it back.
func removeLockIf(lock string, isTheOne func(os.FileInfo) bool) {
	held, err := os.Stat(lock)
	if err != nil || !isTheOne(held) {
		return
	}
	aside := fmt.Sprintf("%s.%d.%s", lock, os.Getpid(), newIdempotencyKey()[:8])
	if os.Rename(lock, aside) != nil {
		return
	}
	if moved, err := os.Stat(aside); err == nil && !isTheOne(moved) {
		_ = os.Link(aside, lock) // a newer lock taken meanwhile stands
	}
	_ = os.Remove(aside)
}

func fsyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func outboxAppend(path string, encoded []byte) error {
	return withLock(path, func() error {
		_, statErr := os.Stat(path)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = f.Write([]byte(UnsentFeedbackMarker + " " + string(encoded) + "\n"))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && errors.Is(statErr, fs.ErrNotExist) {
			fsyncDir(filepath.Dir(path))
		}
		return err
	})
}

// outboxRemove drops the lines of these keys: rewrite to a temp file, rename it over (atomic).
func outboxRemove(path string, keys map[string]bool) error {
	if len(keys) == 0 {
		return nil
	}
	return withLock(path, func() error {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		var kept []string
		for _, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if at := strings.Index(line, UnsentFeedbackMarker); at >= 0 {
				var value struct {
					Key string `json:"idempotency_key"`
				}
				if json.Unmarshal([]byte(strings.TrimSpace(line[at+len(UnsentFeedbackMarker):])), &value) == nil && keys[value.Key] {
					continue
				}
			}
			kept = append(kept, line)
		}
		text := ""
		if len(kept) > 0 {
			text = strings.Join(kept, "\n") + "\n"
		}
		tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = f.WriteString(text)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		fsyncDir(filepath.Dir(path))
		return nil
	})
}

// outboxFlusher re-sends one outbox from a goroutine, backing off while the sidecar stays away.
type outboxFlusher struct {
	opts    FeedbackOptions
	mu      sync.Mutex
	running bool
	wake    chan struct{}
	refused map[string]bool // refused for their content: left for a human and `replay`
}

var (
	flushersMu sync.Mutex
	flushers   = map[string]*outboxFlusher{}
)

func existingFlusher(path string) *outboxFlusher {
	flushersMu.Lock()
	defer flushersMu.Unlock()
	return flushers[path]
}

func flusherFor(opts FeedbackOptions) *outboxFlusher {
	flushersMu.Lock()
	defer flushersMu.Unlock()
	f := flushers[opts.OutboxPath]
	if f == nil {
		f = &outboxFlusher{opts: opts, wake: make(chan struct{}, 1), refused: map[string]bool{}}
		flushers[opts.OutboxPath] = f
	}
	return f
}

func resumeOutbox(opts FeedbackOptions) {
	if entries, err := readOutbox(opts.OutboxPath); err == nil && len(entries) > 0 {
		flusherFor(opts).soon()
	}
}

func (f *outboxFlusher) soon() {
	f.start(0)
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *outboxFlusher) later() { f.start(f.opts.OutboxRetry) }

func (f *outboxFlusher) start(first time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		f.running = true
		go f.run(first)
	}
}

func (f *outboxFlusher) run(delay time.Duration) {
	defer func() { _ = recover() }()
	for {
		select {
		case <-f.wake:
			delay = f.opts.OutboxRetry
		case <-time.After(delay):
		}
		if f.flushOnce() {
			f.mu.Lock()
			if len(f.wake) == 0 {
				f.running = false
				f.mu.Unlock()
				return
			}
			f.mu.Unlock()
			delay = f.opts.OutboxRetry
		} else {
			delay = min(max(delay, f.opts.OutboxRetry)*2, 5*time.Minute)
		}
	}
}

// flushOnce sends every waiting entry once; false while the sidecar cannot be reached.
func (f *outboxFlusher) flushOnce() bool {
	entries, err := readOutbox(f.opts.OutboxPath)
	if err != nil {
		return false
	}
	delivered := map[string]bool{}
	reachable := true
	for _, e := range entries {
		if f.refused[e.key] {
			continue
		}
		body, err := json.Marshal(e.payload)
		if err != nil {
			continue
		}
		outcome, _ := postReport(context.Background(), body, e.key, f.opts, 0)
		if outcome == outcomeDelivered {
			delivered[e.key] = true
		} else if outcome == outcomeInvalid {
			f.refused[e.key] = true
		} else {
			reachable = false
			break
		}
	}
	if err := outboxRemove(f.opts.OutboxPath, delivered); err != nil {
		return false
	}
	if len(delivered) > 0 {
		fmt.Fprintf(os.Stderr, "patchworkmcp: delivered %d report(s) from the outbox %s\n", len(delivered), f.opts.OutboxPath)
	}
	return reachable
}
