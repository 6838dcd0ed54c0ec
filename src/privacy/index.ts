/** Privacy before storage: modes, the scrubber and its rules (domain layer: imports only src/feedback). */
export * from "./modes.js";
export {
  cutToLimits,
  type ScrubbedFields,
  type ScrubbedJson,
  type ScrubbedReport,
  type ScrubbedText,
  scrubFields,
  scrubJson,
  scrubReport,
  scrubText,
} from "./scrub.js";
export { luhnValid, SECRET_KEY } from "./rules.js";
export { secretlintRuleNames } from "./secretlint.js";
export { describeRedactions, type Redaction, SCRUBBED_FIELDS } from "../feedback/index.js";
