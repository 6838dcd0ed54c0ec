// An example MCP server over stdio wired up exactly as drop-ins.md shows:
// the server instructions plus one RegisterFeedbackTool line. The tests build
// the same server in-process.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func newBillingServer(opts FeedbackOptions) *server.MCPServer {
	s := server.NewMCPServer("billing-server", "2.4.1", server.WithInstructions(FeedbackServerInstructions))
	s.AddTool(mcp.NewTool("list_invoices", mcp.WithDescription("List invoices.")),
		func(ctx context.Context, request mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("[]"), nil
		})
	RegisterFeedbackTool(s, "billing-server", &opts)
	return s
}

func main() {
	if err := server.ServeStdio(newBillingServer(FeedbackOptions{})); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
