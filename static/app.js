// Loaded as a module from a file (not inline) so the Content Security Policy
// can stay at script-src 'self'. Browsers too old for modules skip it and get
// the pages without JavaScript, which all work.
import { initAll } from "./govuk-frontend/govuk-frontend.min.js";

initAll();
