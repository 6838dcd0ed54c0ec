// Loaded as a classic blocking script in <head> so a stored theme applies before first paint.
import { applyTheme } from "./theme.js";

applyTheme();
