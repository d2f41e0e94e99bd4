/** One problem with the configuration, named by its dotted key (`s3.bucket`). */
export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.key}: ${issue.message}`;
}
