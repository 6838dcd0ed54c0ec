/** The draft-PR pipeline: one implementation behind the REST/SSE endpoint, the MCP tool and the CLI. */
export {
  runDraft,
  branchName,
  prBody,
  type DraftOutcome,
  type DraftProposal,
  type GuardVerdict,
  type RunDraftOptions,
} from "./pipeline.js";
export {
  DRAFT_STEPS,
  DraftError,
  eventPayload,
  resultPayload,
  type DraftEvent,
  type DraftResult,
  type DraftResultPayload,
  type DraftStep,
  type ChangeAction,
} from "./events.js";
export { changeSetSchema, CHANGE_SET_JSON_SCHEMA, type ChangeSet } from "./change-set.js";
export { validateChangeSet, type ValidatedChange, type RepoView } from "./validate.js";
export { unifiedDiff, changeSetDiff } from "./diff.js";
