// Incidents and their downtime reports (re-exports only).
export * from "./incident.js";
export { IncidentBook, MAX_INCIDENTS } from "./incident-book.js";
export { downtimeReport, downtimeReportMarkdown, type DowntimeReport } from "./downtime-report.js";
