// PatchworkMCP feedback tool: a drop-in for Go MCP servers built on mark3labs/mcp-go.
//
// Copy this ONE file into your server's package (change the package clause to
// match) and register the tool in one line:
//
//	s := server.NewMCPServer("billing-server", "1.0.0", server.WithInstructions(FeedbackServerInstructions))
//	RegisterFeedbackTool(s, "billing-server", FeedbackOptions{})
//
// Configuration: FEEDBACK_SIDECAR_URL (default http://localhost:8099) and
// FEEDBACK_API_KEY, or FeedbackOptions in code. Only the standard library and
// mcp-go are used. Delivery never panics into the host and never writes to
// stdout (that would corrupt a stdio transport); a report that cannot be
// delivered after 2 retries is written to stderr as ONE line
// "PATCHWORKMCP_UNSENT_FEEDBACK {json}" that `patchworkmcp replay` re-sends.
//
// The definition and texts below come from PatchworkMCP's contract
// (drop-ins/spec); the tests fail if they drift.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

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
const (
	FeedbackReplyRecorded = "Thank you. Your feedback was recorded (report {id}) and the server's developers will see it. Carry on with the task."
	FeedbackReplyQueued   = "Thank you. The feedback service could not be reached, so your report was kept locally and will be delivered later. Carry on with the task."
	FeedbackReplyInvalid  = "Feedback was not recorded: {details}. Fix these fields and call the tool again."
)

// UnsentFeedbackMarker starts the stderr line of a report that could not be delivered.
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
}

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
	return o
}

// FeedbackResult is what happened to one report; Reply is the text for the agent.
type FeedbackResult struct {
	Delivered bool
	Unsent    bool // written to stderr for `patchworkmcp replay`
	ReportID  int64
	Status    int
	Reply     string
	Error     string
	// Invalid: the sidecar refused the report's content (400/422). It would fail again, so it
	// is not kept for replay; the tool answers isError with the fields to fix, as the proxy does.
	Invalid bool
}

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

// RegisterFeedbackTool adds the feedback tool to an mcp-go server.
func RegisterFeedbackTool(s *server.MCPServer, serverName string, opts FeedbackOptions) {
	if serverName != "" {
		opts.ServerName = serverName
	}
	s.AddTool(FeedbackTool(), FeedbackToolHandler(opts))
}

// FeedbackToolHandler answers tools/call for the feedback tool. It never returns an error.
func FeedbackToolHandler(opts FeedbackOptions) server.ToolHandlerFunc {
	return func(ctx context.Context, request mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		result := SendFeedback(ctx, request.GetArguments(), opts)
		if result.Invalid {
			return mcp.NewToolResultError(result.Reply), nil
		}
		return mcp.NewToolResultText(result.Reply), nil
	}
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

// SendFeedback delivers one report to the sidecar. It never panics into the host
// and never writes to stdout.
func SendFeedback(ctx context.Context, arguments map[string]any, opts FeedbackOptions) (result FeedbackResult) {
	opts = opts.withDefaults()
	payload := BuildFeedbackPayload(arguments, opts)
	key := newIdempotencyKey()
	defer func() {
		if r := recover(); r != nil {
			result = writeUnsent(payload, key, result.Status, fmt.Sprint(r))
		}
	}()
	body, err := json.Marshal(payload)
	if err != nil {
		return writeUnsent(payload, key, 0, err.Error())
	}
	client := &http.Client{
		Timeout: opts.Timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: opts.ConnectTimeout}).DialContext,
			TLSHandshakeTimeout:   opts.ConnectTimeout,
			ResponseHeaderTimeout: opts.Timeout,
		},
	}
	url := strings.TrimRight(opts.SidecarURL, "/") + "/api/feedback"
	lastError, status := "not attempted", 0
	for attempt := 0; attempt <= opts.Retries; attempt++ {
		backoff := opts.Backoff << attempt
		wait := backoff + time.Duration(mathrand.Int64N(int64(backoff)+1))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return writeUnsent(payload, key, 0, err.Error())
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
					ID int64 `json:"id"`
				}
				_ = json.Unmarshal(answer, &ok)
				return FeedbackResult{Delivered: true, ReportID: ok.ID, Status: status,
					Reply: strings.Replace(FeedbackReplyRecorded, "{id}", strconv.FormatInt(ok.ID, 10), 1)}
			case status == 400 || status == 422:
				details := issuesText(answer, status)
				return FeedbackResult{Status: status, Error: details, Invalid: true,
					Reply: strings.Replace(FeedbackReplyInvalid, "{details}", details, 1)}
			case status == 429 || status >= 500:
				lastError = fmt.Sprintf("the feedback service answered %d", status)
				if honoured, ok := retryAfter(res.Header.Get("Retry-After"), opts.MaxRetryAfter); ok {
					wait = honoured
				}
			default:
				// 401/403/404/413…: a setup problem, not the report's fault: keep it for replay.
				return writeUnsent(payload, key, status, issuesText(answer, status))
			}
		}
		if attempt < opts.Retries {
			select {
			case <-ctx.Done():
				return writeUnsent(payload, key, status, ctx.Err().Error())
			case <-time.After(wait):
			}
		}
	}
	return writeUnsent(payload, key, status, lastError)
}

func writeUnsent(payload map[string]any, key string, status int, reason string) FeedbackResult {
	line := map[string]any{"idempotency_key": key}
	for k, v := range payload {
		line[k] = v
	}
	if encoded, err := json.Marshal(line); err == nil {
		_, _ = fmt.Fprintf(os.Stderr, "%s %s\n", UnsentFeedbackMarker, encoded)
	}
	return FeedbackResult{Unsent: true, Status: status, Error: reason, Reply: FeedbackReplyQueued}
}
