/** A workflow's page in the Temporal UI, when the UI's address is known (TEMPORAL_UI_URL, config.ts). */
export function temporalUiLink(
  uiUrl: string | undefined,
  namespace: string,
  workflowId: string,
): string | undefined {
  if (!uiUrl) return undefined;
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
