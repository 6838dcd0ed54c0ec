/** Argument schemas shared by the gap tools. */
import { idArg } from "./args.js";

/** A gap id as a number or a numeric string ("12", "#12"). */
export const gapIdArg = idArg("gap", 12, "list_gaps");
