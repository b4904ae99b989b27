// The back office's MOJ Frontend components, started the way app.js starts
// GOV.UK Frontend's: a module from a file, so the Content Security Policy stays
// at script-src 'self'. Only templates/backoffice/layout.html loads it, after
// app.js. Every page works without it: tables stay in the order the server
// sent, and the audit log's filter is a plain GET form that is always shown.
import { createAll } from "./govuk-frontend/govuk-frontend.min.js";
import { FilterToggleButton, initAll } from "./moj-frontend/moj-frontend.min.js";

// Sortable tables (data-module="moj-sortable-table"), among others.
initAll();
// MOJ's initAll leaves out the filter's show/hide button, which on narrow
// screens turns the filter into a panel over the results (data-module="moj-filter").
createAll(FilterToggleButton);
