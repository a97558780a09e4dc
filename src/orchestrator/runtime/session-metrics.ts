/** Metric names the session API emits (EMF, Powertools Metrics). */
export const SESSION_METRICS = {
  SESSIONS_CREATED: 'SessionsCreated',
  SESSIONS_RESUMED: 'SessionsResumed',
  SESSIONS_ENDED: 'SessionsEnded',
  LAUNCH_LATENCY: 'LaunchLatency',
  TOKENS_MINTED: 'TokensMinted',
  QUOTA_REJECTIONS: 'QuotaRejections',
  ADMISSION_REJECTIONS: 'AdmissionRejections',
  UPSTREAM_ERRORS: 'UpstreamErrors',
  LAUNCH_FAILURES: 'LaunchFailures',
} as const;
