/** Public surface of the feedback contract. */
export * from "./schema.js";
export * from "./tool.js";
export * from "./fields.js";
export * from "./echo.js";
