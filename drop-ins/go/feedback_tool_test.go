// Native test of feedback_tool.go with mcp-go's in-process client and a real
// sidecar. Run by dropin.test.ts in two phases: -run TestUp (sidecar up) and
// -run TestDown (sidecar stopped); see drop-ins/harness.ts.
package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

type specVector struct {
	Name   string         `json:"name"`
	Input  any            `json:"input"`
	Stored map[string]any `json:"stored"`
	Issues []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"issues"`
}

func specDir() string {
	if dir := os.Getenv("PWM_SPEC_DIR"); dir != "" {
		return dir
	}
	return filepath.Join("..", "spec")
}

func readSpec(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(specDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}

func vectors(t *testing.T) (valid, invalid []specVector) {
	var v struct {
		Valid   []specVector `json:"valid"`
		Invalid []specVector `json:"invalid"`
	}
	readSpec(t, "vectors.json", &v)
	return v.Valid, v.Invalid
}

func fullReport(t *testing.T, session string) map[string]any {
	valid, _ := vectors(t)
	for _, v := range valid {
		if v.Name == "full" {
			out := map[string]any{}
			for k, val := range v.Input.(map[string]any) {
				out[k] = val
			}
			if session != "" {
				out["session_id"] = session
			}
			return out
		}
	}
	t.Fatal("no full vector")
	return nil
}

func replies(t *testing.T) map[string]string {
	var r map[string]string
	readSpec(t, "replies.json", &r)
	return r
}

func fast(url string) FeedbackOptions {
	return FeedbackOptions{SidecarURL: url, Backoff: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond,
		OutboxRetry: 50 * time.Millisecond}
}

// clientInfo is the name every native test gives its MCP client (see drop-ins/harness.ts).
var clientInfo = mcp.Implementation{Name: "pwm-dropin-client", Version: "1.2.3"}

// connect starts the example server in-process and initializes an mcp-go client.
func connect(t *testing.T, opts FeedbackOptions) (*client.Client, *mcp.InitializeResult) {
	t.Helper()
	return connectTo(t, newBillingServer(opts))
}

// connectTo initializes an mcp-go client against s, in-process, at the latest protocol (2026-07-28).
func connectTo(t *testing.T, s *server.MCPServer) (*client.Client, *mcp.InitializeResult) {
	t.Helper()
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = clientInfo
	result, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, result
}

func callFeedback(t *testing.T, c *client.Client, args map[string]any) string {
	t.Helper()
	res := callFeedbackResult(t, c, args)
	if res.IsError {
		t.Fatalf("unexpected isError: %+v", res.Content)
	}
	return textOf(t, res)
}

func callFeedbackResult(t *testing.T, c *client.Client, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = FeedbackToolName
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want one content block, got %d", len(res.Content))
	}
	text, ok := res.Content[0].(mcp.TextContent)
	if !ok {
		t.Fatalf("want text content, got %T", res.Content[0])
	}
	return text.Text
}

func recordedPattern(t *testing.T) *regexp.Regexp {
	return regexp.MustCompile("^" + strings.Replace(regexp.QuoteMeta(replies(t)["recorded"]), `\{id\}`, `(\d+)`, 1) + "$")
}

func TestUpToolsListAndInstructionsAreTheSpec(t *testing.T) {
	c, init := connect(t, fast(""))
	var instructions struct {
		Instructions string `json:"instructions"`
	}
	readSpec(t, "instructions.json", &instructions)
	if init.Instructions != instructions.Instructions || FeedbackServerInstructions != instructions.Instructions {
		t.Fatalf("instructions differ from the spec:\n%q", init.Instructions)
	}
	listed, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	readSpec(t, "tool.json", &want)
	for _, tool := range listed.Tools {
		if tool.Name != FeedbackToolName {
			continue
		}
		encoded, _ := json.Marshal(tool)
		var got map[string]any
		_ = json.Unmarshal(encoded, &got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("tools/list entry differs from the spec:\n got %s", encoded)
		}
		return
	}
	t.Fatal("feedback tool not listed")
}

func TestUpDeliversThroughTheClient(t *testing.T) {
	c, _ := connect(t, fast(""))
	reply := callFeedback(t, c, fullReport(t, ""))
	if !recordedPattern(t).MatchString(reply) {
		t.Fatalf("unexpected reply %q", reply)
	}
}

func TestUpRetriesALostAckWithOneKey(t *testing.T) {
	result := DeliverFeedback(context.Background(), fullReport(t, "retry-after-lost-ack"), fast(os.Getenv("PWM_FLAKY_URL")))
	if !result.Delivered || result.Status != 200 || !recordedPattern(t).MatchString(result.Reply) {
		t.Fatalf("want delivered with 200 (the retry found the stored report), got %+v", result)
	}
}

func TestUpValidVectorsAreDelivered(t *testing.T) {
	valid, _ := vectors(t)
	for _, v := range valid {
		if v.Name == "full" {
			continue
		}
		input := map[string]any{"session_id": "vector:" + v.Name}
		for k, val := range v.Input.(map[string]any) {
			input[k] = val
		}
		result := DeliverFeedback(context.Background(), input, FeedbackOptions{})
		if !result.Delivered || !recordedPattern(t).MatchString(result.Reply) {
			t.Fatalf("%s: %+v", v.Name, result)
		}
	}
}

func TestUpInvalidVectorsGetTheSpecReply(t *testing.T) {
	_, invalid := vectors(t)
	checked := 0
	for _, v := range invalid {
		input, ok := v.Input.(map[string]any)
		if !ok {
			continue // the drop-in only ever sends an object
		}
		parts := []string{}
		for _, issue := range v.Issues {
			parts = append(parts, issue.Field+": "+issue.Message)
		}
		want := strings.Replace(replies(t)["invalid"], "{details}", strings.Join(parts, "; "), 1)
		result := DeliverFeedback(context.Background(), input, fast(""))
		if result.Reply != want || result.Delivered || result.Unsent || !result.Invalid {
			t.Fatalf("%s: got %+v, want reply %q", v.Name, result, want)
		}
		checked++
	}
	if checked < 8 {
		t.Fatalf("only %d invalid vectors checked", checked)
	}
}

// asJSON decodes v's JSON encoding into plain maps, slices and strings, to compare with the spec files.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	encoded, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(encoded, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUpExportsMatchTheSpec(t *testing.T) {
	var tool map[string]any
	readSpec(t, "tool.json", &tool)
	if got := asJSON(t, FeedbackTool()); !reflect.DeepEqual(got, any(tool)) {
		t.Fatalf("FeedbackTool() differs from drop-ins/spec/tool.json:\n got %v\nwant %v", got, tool)
	}
	var schema any
	if err := json.Unmarshal([]byte(FeedbackInputSchema), &schema); err != nil {
		t.Fatalf("FeedbackInputSchema is not JSON: %v", err)
	}
	checks := map[string][2]any{
		"name":        {FeedbackToolName, tool["name"]},
		"title":       {FeedbackToolTitle, tool["title"]},
		"description": {FeedbackToolDescription, tool["description"]},
		"inputSchema": {schema, tool["inputSchema"]},
		"recorded":    {FeedbackReplyRecorded, replies(t)["recorded"]},
		"queued":      {FeedbackReplyQueued, replies(t)["queued"]},
		"invalid":     {FeedbackReplyInvalid, replies(t)["invalid"]},
	}
	for name, pair := range checks {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s differs from the spec:\n got %v\nwant %v", name, pair[0], pair[1])
		}
	}
}

func TestUpToolsAvailableIsAlwaysAnArray(t *testing.T) {
	cases := []struct {
		in   any
		want []any
	}{
		{nil, []any{}},
		{"a, b", []any{"a", "b"}},
		{` ["a","b"] `, []any{"a", "b"}},
		{"", []any{}},
		{[]any{"a", "b"}, []any{"a", "b"}},
		{[]string{"a"}, []any{"a"}},
	}
	for _, c := range cases {
		payload := BuildFeedbackPayload(map[string]any{"tools_available": c.in}, FeedbackOptions{})
		if got := asJSON(t, payload["tools_available"]); !reflect.DeepEqual(got, any(c.want)) {
			t.Errorf("tools_available %#v became %v, want %v", c.in, got, c.want)
		}
	}
	// Every valid spec vector: what the drop-in sends is what the sidecar stores.
	valid, _ := vectors(t)
	for _, v := range valid {
		payload := BuildFeedbackPayload(v.Input.(map[string]any), FeedbackOptions{})
		if got := asJSON(t, payload["tools_available"]); !reflect.DeepEqual(got, v.Stored["tools_available"]) {
			t.Errorf("%s: tools_available sent as %v, the spec stores %v", v.Name, got, v.Stored["tools_available"])
		}
	}
}

func TestUpAnInvalidReportIsAnErrorThroughTheClient(t *testing.T) {
	c, _ := connect(t, fast(""))
	_, invalid := vectors(t)
	for _, v := range invalid {
		if v.Name != "bad_gap_type" {
			continue
		}
		res := callFeedbackResult(t, c, v.Input.(map[string]any))
		want := strings.Replace(replies(t)["invalid"], "{details}", v.Issues[0].Field+": "+v.Issues[0].Message, 1)
		if !res.IsError || textOf(t, res) != want {
			t.Fatalf("want isError with %q, got isError=%v %q", want, res.IsError, textOf(t, res))
		}
		return
	}
	t.Fatal("no bad_gap_type vector")
}

// silentStdout fails the test if anything is written to stdout while fn runs
// (a stray write would corrupt a stdio transport).
func silentStdout(t *testing.T, fn func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	fn()
	os.Stdout = saved
	w.Close()
	written, _ := io.ReadAll(r)
	if len(written) > 0 {
		t.Fatalf("the drop-in wrote to stdout: %q", written)
	}
}

// keptInTheOutbox: the report with this session waits in FEEDBACK_OUTBOX (the harness replays it).
func keptInTheOutbox(t *testing.T, session string) {
	t.Helper()
	entries, err := readOutbox(os.Getenv("FEEDBACK_OUTBOX"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.payload["session_id"] == session {
			return
		}
	}
	t.Fatalf("no outbox entry for %s in %+v", session, entries)
}

func TestDownToolCallKeepsTheReportForReplay(t *testing.T) {
	c, _ := connect(t, fast(""))
	var reply string
	silentStdout(t, func() { reply = callFeedback(t, c, fullReport(t, "sidecar-down")) })
	if reply != replies(t)["queued"] {
		t.Fatalf("unexpected reply %q", reply)
	}
	keptInTheOutbox(t, "sidecar-down")
}

func TestDownStopsAfterTwoRetriesOn503(t *testing.T) {
	var result FeedbackResult
	opts := fast(os.Getenv("PWM_DOWN_URL"))
	opts.OutboxRetry = time.Hour
	silentStdout(t, func() {
		result = DeliverFeedback(context.Background(), fullReport(t, "always-503"), opts)
	})
	if result.Delivered || !result.Unsent || result.Status != 503 || result.Reply != replies(t)["queued"] ||
		result.Outbox != os.Getenv("FEEDBACK_OUTBOX") {
		t.Fatalf("got %+v", result)
	}
	keptInTheOutbox(t, "always-503")
}

// TestOutbox: the sidecar is away until the report is in the outbox; stay up until the
// background re-sender has emptied it.
func TestOutboxIsReSentInTheBackground(t *testing.T) {
	c, _ := connect(t, fast(""))
	if reply := callFeedback(t, c, fullReport(t, "outbox-resend")); reply != replies(t)["queued"] {
		t.Fatalf("unexpected reply %q", reply)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		entries, err := readOutbox(os.Getenv("FEEDBACK_OUTBOX"))
		if err == nil && len(entries) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox was not re-sent within 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUpFillsInTheContextTheServerKnows(t *testing.T) {
	c, init := connect(t, fast(""))
	if init.ProtocolVersion != "2026-07-28" {
		t.Fatalf("negotiated %s", init.ProtocolVersion)
	}
	full := fullReport(t, "")
	args := map[string]any{"what_i_needed": full["what_i_needed"], "what_i_tried": full["what_i_tried"],
		"gap_type": full["gap_type"], "user_goal": "context-check"}
	if reply := callFeedback(t, c, args); !recordedPattern(t).MatchString(reply) {
		t.Fatalf("unexpected reply %q", reply)
	}
}

func TestUpEchoesAKnownGapInTheSpecWords(t *testing.T) {
	var echo struct {
		Vectors []struct {
			Name     string   `json:"name"`
			Gap      KnownGap `json:"gap"`
			Sentence string   `json:"sentence"`
			Reply    string   `json:"reply"`
		} `json:"vectors"`
	}
	readSpec(t, "echo.json", &echo)
	c, _ := connect(t, fast(os.Getenv("PWM_ECHO_URL")))
	for _, v := range echo.Vectors {
		if got := KnownGapSentence(v.Gap); got != v.Sentence {
			t.Errorf("%s: sentence %q, want %q", v.Name, got, v.Sentence)
		}
		if got := callFeedback(t, c, fullReport(t, "echo:"+v.Name)); got != v.Reply {
			t.Errorf("%s: reply %q, want %q", v.Name, got, v.Reply)
		}
	}
}

// The original README's Go snippet, as written there but for the package qualifier (the
// drop-in lives in this test's package, not in a package named feedback), and every name
// of the original API.
func TestUpTheOriginalAPIWorksUnchanged(t *testing.T) {
	s := server.NewMCPServer("my-server", "1.0.0")
	RegisterFeedbackTool(s, "my-server")
	c, _ := connectTo(t, s)
	if reply := callFeedback(t, c, fullReport(t, "migration:readme")); !recordedPattern(t).MatchString(reply) {
		t.Fatalf("unexpected reply %q", reply)
	}

	withNil := server.NewMCPServer("my-server", "1.0.0")
	RegisterFeedbackTool(withNil, "my-server", nil)
	c2, _ := connectTo(t, withNil)
	if reply := callFeedback(t, c2, fullReport(t, "migration:nil-options")); !recordedPattern(t).MatchString(reply) {
		t.Fatalf("unexpected reply %q", reply)
	}

	manual := server.NewMCPServer("my-server", "1.0.0")
	manual.AddTool(NewFeedbackTool(), NewFeedbackHandler("my-server", &Options{SidecarURL: os.Getenv("FEEDBACK_SIDECAR_URL")}))
	c3, _ := connectTo(t, manual)
	if reply := callFeedback(t, c3, fullReport(t, "migration:handler")); !recordedPattern(t).MatchString(reply) {
		t.Fatalf("unexpected reply %q", reply)
	}

	var text string = SendFeedback(context.Background(), fullReport(t, "migration:send"), "my-server", nil)
	if !recordedPattern(t).MatchString(text) {
		t.Fatalf("unexpected reply %q", text)
	}
	if got := asJSON(t, NewFeedbackTool()); !reflect.DeepEqual(got, asJSON(t, FeedbackTool())) {
		t.Fatalf("NewFeedbackTool differs from FeedbackTool")
	}
}

type privacySpec struct {
	ScrubbedFields []string `json:"scrubbed_fields"`
	LastResort     string   `json:"last_resort"`
	Texts          []struct {
		Name, Mode, Input, Output string
	} `json:"texts"`
	Reports []struct {
		Name  string         `json:"name"`
		Mode  string         `json:"mode"`
		Input map[string]any `json:"input"`
		Kept  map[string]any `json:"kept"`
	} `json:"reports"`
}

// captureStderr runs fn with os.Stderr going to a pipe, and returns what was written.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte)
	go func() {
		written, _ := io.ReadAll(r)
		read <- written
	}()
	saved := os.Stderr
	os.Stderr = w
	fn()
	os.Stderr = saved
	w.Close()
	return string(<-read)
}

// TestDownScrubsWhatItKeeps: every privacy.json text; each report as its outbox line holds it
// (nothing listens on port 9, so every report is kept); the stderr line of last resort, with
// secrets+pii whatever the mode, when the outbox cannot be written (a file stands where its
// folder would be).
func TestDownScrubsWhatItKeeps(t *testing.T) {
	var spec privacySpec
	readSpec(t, "privacy.json", &spec)
	if !reflect.DeepEqual(ScrubbedFields, spec.ScrubbedFields) {
		t.Fatalf("scrubbed fields %v, the spec says %v", ScrubbedFields, spec.ScrubbedFields)
	}
	for _, v := range spec.Texts {
		if got, _ := ScrubText(v.Input, v.Mode); got != v.Output {
			t.Errorf("%s: got %q, want %q", v.Name, got, v.Output)
		}
	}
	dir := t.TempDir()
	keep := func(report map[string]any, outbox, mode string) FeedbackResult {
		opts := FeedbackOptions{SidecarURL: "http://127.0.0.1:9", Retries: -1, OutboxPath: outbox, OutboxRetry: time.Hour, Privacy: mode}
		return DeliverFeedback(context.Background(), report, opts)
	}
	pick := func(payload map[string]any) map[string]any {
		out := map[string]any{}
		for _, f := range spec.ScrubbedFields {
			out[f] = payload[f]
		}
		return out
	}
	for _, r := range spec.Reports {
		outbox := filepath.Join(dir, r.Name+".log")
		if result := keep(r.Input, outbox, r.Mode); !result.Unsent {
			t.Fatalf("%s: %+v", r.Name, result)
		}
		entries, err := readOutbox(outbox)
		if err != nil || len(entries) != 1 {
			t.Fatalf("%s: %v %+v", r.Name, err, entries)
		}
		if got := pick(entries[0].payload); !reflect.DeepEqual(got, r.Kept) {
			t.Errorf("%s: kept %v, want %v", r.Name, got, r.Kept)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "not-a-folder"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	report := spec.Reports[0]
	written := captureStderr(t, func() { keep(report.Input, filepath.Join(dir, "not-a-folder", "outbox.log"), "off") })
	var line string
	for _, l := range strings.Split(written, "\n") {
		if strings.HasPrefix(l, UnsentFeedbackMarker+" ") {
			line = l
		}
	}
	var kept map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, UnsentFeedbackMarker+" ")), &kept); err != nil {
		t.Fatalf("no unsent line on stderr: %q", written)
	}
	if report.Mode != spec.LastResort || !reflect.DeepEqual(pick(kept), report.Kept) {
		t.Errorf("the stderr line kept %v, want %v", pick(kept), report.Kept)
	}
}
