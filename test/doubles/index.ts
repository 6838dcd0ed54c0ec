/** Loopback doubles of the services these machines cannot reach. See docs/draft-pr.md. */
export { startGitHubDouble, type GitHubDouble, type DoublePull, type DoubleRequest } from "./github.js";
export { githubTime, type DoubleIssue } from "./github-issues.js";
export { startAnthropicDouble } from "./anthropic.js";
export { startOpenAIDouble, type OpenAIDouble } from "./openai.js";
export type { LlmReply, LlmDoubleBase, LlmRequestRecord } from "./llm-common.js";
export { outputName, isAnalysisRequest, userText, systemText } from "./llm-common.js";
